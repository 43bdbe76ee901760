import Crypto
import Foundation

extension CertificateEntry {
    init(issued: IssuedCertificate, authority: String, thing: String?, subjectAuthority: String?, template: String,
         keyAlgorithm: KeyAlgorithm, subjectAltNames: [String] = [], now: Date) {
        self.init(
            serial: issued.serial, authority: authority, thing: thing, subjectAuthority: subjectAuthority,
            template: template, subject: issued.subject.description, subjectAltNames: subjectAltNames,
            keyAlgorithm: keyAlgorithm, notBefore: issued.notValidBefore, notAfter: issued.notValidAfter,
            status: .active, revokedAt: nil, revocationReason: nil,
            fingerprintSHA256: issued.fingerprints.certificateSHA256Hex, spkiSHA256: issued.fingerprints.spkiSHA256Hex,
            der: issued.der,
            // Whole seconds, so the value read back from the store equals this one.
            createdAt: Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down)))
    }

    /// A certificate row; a value that does not parse is a `StoreError.corruptRow`.
    /// The fingerprints are computed from the DER (a row stores none: schema v12).
    init(row: SQLRow) throws {
        let read = RowDecoder(row, table: "certificates", key: "serial")
        let der = Array(try read.value("der", as: Data.self))
        let fingerprints = Self.fingerprints(of: der)
        self.init(
            serial: try read.parsed("serial", SerialNumber.init(hex:)),
            authority: try read.value("authority_name"),
            thing: try read.optional("thing"),
            subjectAuthority: try read.optional("subject_authority"),
            template: try read.value("template"),
            subject: try read.value("subject"),
            subjectAltNames: try read.parsed("sans") { try? JSONDecoder().decode([String].self, from: Data($0.utf8)) },
            keyAlgorithm: try read.parsed("key_algorithm", KeyAlgorithm.init(rawValue:)),
            notBefore: try read.value("not_before"),
            notAfter: try read.value("not_after"),
            status: try read.parsed("status", Status.init(rawValue:)),
            revokedAt: try read.optional("revoked_at"),
            revocationReason: try read.optional("revocation_reason"),
            fingerprintSHA256: fingerprints.certificate,
            spkiSHA256: fingerprints.spki,
            der: der,
            createdAt: try read.value("created_at"),
            delivery: try read.parsed("delivery", Delivery.init(rawValue:)),
            deliveryTarget: try read.optional("delivery_target"))
    }

    /// The certificate's and its key's SHA-256 in hex; the key's is empty when the DER does not
    /// parse as far as its key, which `doctor` reports.
    static func fingerprints(of der: [UInt8]) -> (certificate: String, spki: String) {
        let spki = Fingerprints.subjectPublicKeyInfo(inCertificate: der).map { Array(SHA256.hash(data: $0)).hexString }
        return (Array(SHA256.hash(data: der)).hexString, spki ?? "")
    }
}
