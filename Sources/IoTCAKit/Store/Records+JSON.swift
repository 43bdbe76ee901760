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
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(crlValidity, forKey: .crlValiditySeconds)
        try container.encode(crlURL, forKey: .crlURL)
        try container.encode(caIssuersURL, forKey: .caIssuersURL)
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
