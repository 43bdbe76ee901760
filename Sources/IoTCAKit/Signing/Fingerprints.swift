import Crypto
import Foundation
import SwiftASN1
import X509

/// The hashes clients compare against: the certificate's SHA-256 fingerprint (`openssl x509
/// -fingerprint -sha256`) and the SPKI SHA-256 pin (the HPKP / curl `--pinnedpubkey` recipe).
public struct Fingerprints: Sendable, Equatable {
    public let certificateSHA256: [UInt8]
    public let spkiSHA256: [UInt8]

    public init(certificateDER: [UInt8], publicKey: Certificate.PublicKey) throws {
        self.certificateSHA256 = Array(SHA256.hash(data: certificateDER))
        if let spki = Self.subjectPublicKeyInfo(inCertificate: certificateDER) {
            self.spkiSHA256 = Array(SHA256.hash(data: spki))
        } else {
            self.spkiSHA256 = try Self.spkiSHA256(of: publicKey)
        }
    }

    /// The SubjectPublicKeyInfo element's bytes as they stand in the certificate (RFC 5280
    /// 4.1: the seventh TBSCertificate field, counting the optional version): hashing them
    /// needs no re-encoding of the key, which cost as much as the hash on the batch path.
    static func subjectPublicKeyInfo(inCertificate der: [UInt8]) -> ArraySlice<UInt8>? {
        let reader = DERReader(bytes: der)
        guard let certificate = reader.element(at: 0, limit: der.count), certificate.tag == 0x30,
              let tbs = reader.firstChild(of: certificate), tbs.tag == 0x30,
              var field = reader.firstChild(of: tbs) else { return nil }
        // [0] version, serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo
        for _ in 0..<(field.tag == 0xA0 ? 6 : 5) {
            guard let next = reader.next(after: field, in: tbs) else { return nil }
            field = next
        }
        return field.tag == 0x30 ? reader.slice(field) : nil
    }

    public static func spkiSHA256(of publicKey: Certificate.PublicKey) throws -> [UInt8] {
        var serializer = DER.Serializer()
        try serializer.serialize(publicKey)
        return Array(SHA256.hash(data: serializer.serializedBytes))
    }

    public var certificateSHA256Hex: String { certificateSHA256.hexString }
    public var spkiSHA256Hex: String { spkiSHA256.hexString }
    public var spkiSHA256Base64: String { Data(spkiSHA256).base64EncodedString() }

    /// `AB:CD:...`, as `openssl x509 -fingerprint` prints it.
    public var certificateSHA256Colons: String {
        certificateSHA256.colonHexString
    }
}

extension Certificate {
    public func fingerprints() throws -> Fingerprints {
        var serializer = DER.Serializer()
        try serializer.serialize(self)
        return try Fingerprints(certificateDER: serializer.serializedBytes, publicKey: publicKey)
    }
}
