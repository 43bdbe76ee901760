import Foundation

// The `--json` shapes of store records: snake_case keys, times in RFC 3339 UTC, hashes in hex.
// Factory scripts parse these; add fields, never rename or remove them.

extension CertificateEntry: Encodable {
    enum CodingKeys: String, CodingKey {
        case serial, ca, thing, template, subject, status
        case subjectAuthority = "subject_ca"
        case subjectAltNames = "subject_alt_names"
        case keyAlgorithm = "key_type"
        case notBefore = "not_before"
        case notAfter = "not_after"
        case revokedAt = "revoked_at"
        case revocationReason = "revocation_reason"
        case fingerprintSHA256 = "certificate_sha256"
        case spkiSHA256 = "spki_sha256"
        case createdAt = "created_at"
        case delivery
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(serial.hex, forKey: .serial)
        try container.encode(authority, forKey: .ca)
        try container.encode(thing, forKey: .thing)
        try container.encodeIfPresent(subjectAuthority, forKey: .subjectAuthority)
        try container.encode(template, forKey: .template)
        try container.encode(subject, forKey: .subject)
        try container.encode(subjectAltNames, forKey: .subjectAltNames)
        try container.encode(keyAlgorithm, forKey: .keyAlgorithm)
        try container.encode(notBefore, forKey: .notBefore)
        try container.encode(notAfter, forKey: .notAfter)
        try container.encode(status, forKey: .status)
        try container.encode(revokedAt, forKey: .revokedAt)
        try container.encode(revocationReason, forKey: .revocationReason)
        try container.encode(fingerprintSHA256, forKey: .fingerprintSHA256)
        try container.encode(spkiSHA256, forKey: .spkiSHA256)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(delivery, forKey: .delivery)
    }
}

extension CertificateEntry {
    /// The entry on one line, as `JSONEncoder.iotcaCompact` encodes it, written directly.
    public var compactJSON: [UInt8] {
        var writer = JSONObjectWriter(capacity: 768)
        writer.text("ca", authority)
        writer.text("certificate_sha256", fingerprintSHA256)
        writer.text("created_at", CivilTime(createdAt).rfc3339)
        writer.text("delivery", delivery.rawValue)
        writer.text("key_type", keyAlgorithm.rawValue)
        writer.text("not_after", CivilTime(notAfter).rfc3339)
        writer.text("not_before", CivilTime(notBefore).rfc3339)
        writer.text("revocation_reason", revocationReason)
        writer.text("revoked_at", revokedAt.map { CivilTime($0).rfc3339 })
        writer.text("serial", serial.hex)
        writer.text("spki_sha256", spkiSHA256)
        writer.text("status", status.rawValue)
        writer.text("subject", subject)
        writer.list("subject_alt_names", subjectAltNames)
        writer.textIfPresent("subject_ca", subjectAuthority)
        writer.text("template", template)
        writer.text("thing", thing)
        return writer.finish()
    }
}

extension CertificateEntry: Decodable {
    /// `certificate_pem`, which `iotca serve` adds when it answers for one certificate.
    public enum ExtraKeys: String, CodingKey { case certificatePEM = "certificate_pem" }

    /// The `--json` form read back (what `iotca serve` answers); the DER only when the answer
    /// carried `certificate_pem`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let serialText = try container.decode(String.self, forKey: .serial)
        guard let serial = SerialNumber(hex: serialText) else {
            throw DecodingError.dataCorruptedError(forKey: .serial, in: container, debugDescription: "not a serial in hex")
        }
        let pem = try decoder.container(keyedBy: ExtraKeys.self).decodeIfPresent(String.self, forKey: .certificatePEM)
        let der = pem.flatMap { PEMBundle.derDocuments(in: $0, type: "CERTIFICATE").first } ?? []
        // With the certificate at hand its fingerprints are computed, not taken from the sender.
        let fingerprints = der.isEmpty ? nil : Self.fingerprints(of: der)
        self.init(
            serial: serial, authority: try container.decode(String.self, forKey: .ca),
            thing: try container.decodeIfPresent(String.self, forKey: .thing),
            subjectAuthority: try container.decodeIfPresent(String.self, forKey: .subjectAuthority),
            template: try container.decode(String.self, forKey: .template), subject: try container.decode(String.self, forKey: .subject),
            subjectAltNames: try container.decode([String].self, forKey: .subjectAltNames),
            keyAlgorithm: try container.decode(KeyAlgorithm.self, forKey: .keyAlgorithm),
            notBefore: try container.decode(Date.self, forKey: .notBefore), notAfter: try container.decode(Date.self, forKey: .notAfter),
            status: try container.decode(Status.self, forKey: .status),
            revokedAt: try container.decodeIfPresent(Date.self, forKey: .revokedAt),
            revocationReason: try container.decodeIfPresent(String.self, forKey: .revocationReason),
            fingerprintSHA256: try fingerprints?.certificate ?? container.decode(String.self, forKey: .fingerprintSHA256),
            spkiSHA256: try fingerprints?.spki ?? container.decode(String.self, forKey: .spkiSHA256),
            der: der,
            createdAt: try container.decode(Date.self, forKey: .createdAt),
            delivery: try container.decodeIfPresent(Delivery.self, forKey: .delivery) ?? .written, deliveryTarget: nil)
    }
}

extension JSONDecoder {
    /// Reads what `JSONEncoder.iotca` writes.
    public static var iotca: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}

extension Authority: Encodable {
    enum CodingKeys: String, CodingKey {
        case name, kind, parent, status, subject
        case keyAlgorithm = "key_type"
        case keyFile = "key_file"
        case keyEncrypted = "key_encrypted"
        case notBefore = "not_before"
        case notAfter = "not_after"
        case certificateSHA256 = "certificate_sha256"
        case spkiSHA256 = "spki_sha256"
        case createdAt = "created_at"
        case crlValiditySeconds = "crl_validity_seconds"
        case crlURL = "crl_url"
        case caIssuersURL = "ca_issuers_url"
        case ocspURL = "ocsp_url"
        case onPublish = "on_publish"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(crlValidity, forKey: .crlValiditySeconds)
        try container.encode(crlURL, forKey: .crlURL)
        try container.encode(caIssuersURL, forKey: .caIssuersURL)
        try container.encode(ocspURL, forKey: .ocspURL)
        try container.encode(onPublish, forKey: .onPublish)
        try container.encode(name, forKey: .name)
        try container.encode(kind, forKey: .kind)
        try container.encode(parentName, forKey: .parent)
        try container.encode(status, forKey: .status)
        try container.encode(subject, forKey: .subject)
        try container.encode(keyAlgorithm, forKey: .keyAlgorithm)
        try container.encode(keyFile, forKey: .keyFile)
        try container.encode(keyEncrypted, forKey: .keyEncrypted)
        try container.encode(notBefore, forKey: .notBefore)
        try container.encode(notAfter, forKey: .notAfter)
        let fingerprints = try? certificate().fingerprints()
        try container.encode(fingerprints?.certificateSHA256Hex, forKey: .certificateSHA256)
        try container.encode(fingerprints?.spkiSHA256Base64, forKey: .spkiSHA256)
        try container.encode(createdAt, forKey: .createdAt)
    }
}

extension Authority {
    /// What a station or claim may read of a CA: its identity, dates, status and public URLs;
    /// not where its key lives (file, token module), nor its on-publish command.
    public struct PublicView: Encodable, Sendable {
        public let authority: Authority

        public init(_ authority: Authority) { self.authority = authority }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Authority.CodingKeys.self)
            let ca = authority
            try container.encode(ca.name, forKey: .name)
            try container.encode(ca.kind, forKey: .kind)
            try container.encode(ca.parentName, forKey: .parent)
            try container.encode(ca.status, forKey: .status)
            try container.encode(ca.subject, forKey: .subject)
            try container.encode(ca.keyAlgorithm, forKey: .keyAlgorithm)
            try container.encode(ca.notBefore, forKey: .notBefore)
            try container.encode(ca.notAfter, forKey: .notAfter)
            let fingerprints = try? ca.certificate().fingerprints()
            try container.encode(fingerprints?.certificateSHA256Hex, forKey: .certificateSHA256)
            try container.encode(fingerprints?.spkiSHA256Base64, forKey: .spkiSHA256)
            try container.encode(ca.crlURL, forKey: .crlURL)
            try container.encode(ca.caIssuersURL, forKey: .caIssuersURL)
            try container.encode(ca.ocspURL, forKey: .ocspURL)
        }
    }
}
