import Foundation

/// `manifest.json` in a bundle: what a factory script or a device needs to know about the
/// certificate without parsing it, and the root pin to compile into firmware.
public struct BundleManifest: Codable, Sendable, Equatable {
    public var thing: String
    public var serial: String
    public var authority: String
    public var template: String
    public var keyType: String
    /// "generated" (key.pem is in the bundle) or "csr" (the device kept its key).
    public var keySource: String
    public var subject: String
    public var subjectAltNames: [String]
    public var notBefore: Date
    public var notAfter: Date
    public var certificateSHA256: String
    public var spkiSHA256: String
    public var rootCertificateSHA256: String
    /// base64 SHA-256 of the root's SubjectPublicKeyInfo: the pin clients compare.
    public var rootSPKISHA256: String
    public var rootSPKISHA256Hex: String
    public var files: [String]
    /// Hex SHA-256 of the prepared next key's SubjectPublicKeyInfo (`next-key.pem`): the
    /// backup pin of a server whose clients pin its key.
    public var nextSPKISHA256: String?

    enum CodingKeys: String, CodingKey {
        case thing, serial, authority, template, subject, files
        case keyType = "key_type"
        case keySource = "key_source"
        case subjectAltNames = "subject_alt_names"
        case notBefore = "not_before"
        case notAfter = "not_after"
        case certificateSHA256 = "certificate_sha256"
        case spkiSHA256 = "spki_sha256"
        case rootCertificateSHA256 = "root_certificate_sha256"
        case rootSPKISHA256 = "root_spki_sha256"
        case rootSPKISHA256Hex = "root_spki_sha256_hex"
        case nextSPKISHA256 = "next_spki_sha256"
    }
}

extension BundleManifest {
    /// The manifest as `JSONEncoder.iotca` writes it (sorted keys, two-space indent) and a
    /// newline, for `manifest.json`.
    var prettyJSON: [UInt8] {
        var writer = JSONObjectWriter(pretty: true)
        write(to: &writer)
        return writer.finish() + [0x0A]
    }

    /// The manifest on one line, as `JSONEncoder.iotcaCompact` writes it.
    public var compactJSON: [UInt8] {
        var writer = JSONObjectWriter()
        write(to: &writer)
        return writer.finish()
    }

    private func write(to writer: inout JSONObjectWriter) {
        writer.text("authority", authority)
        writer.text("certificate_sha256", certificateSHA256)
        writer.list("files", files)
        writer.text("key_source", keySource)
        writer.text("key_type", keyType)
        if let nextSPKISHA256 { writer.text("next_spki_sha256", nextSPKISHA256) }
        writer.text("not_after", CivilTime(notAfter).rfc3339)
        writer.text("not_before", CivilTime(notBefore).rfc3339)
        writer.text("root_certificate_sha256", rootCertificateSHA256)
        writer.text("root_spki_sha256", rootSPKISHA256)
        writer.text("root_spki_sha256_hex", rootSPKISHA256Hex)
        writer.text("serial", serial)
        writer.text("spki_sha256", spkiSHA256)
        writer.text("subject", subject)
        writer.list("subject_alt_names", subjectAltNames)
        writer.text("template", template)
        writer.text("thing", thing)
    }
}

extension JSONEncoder {
    /// The encoder for everything iotca prints or writes as JSON: stable key order and
    /// RFC 3339 UTC times, so scripts and diffs see the same text for the same data.
    public static var iotca: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }

    /// The same JSON on one line, for answers a program reads (the API): no indentation to
    /// write or send, and times formatted without Foundation's ISO 8601 formatter, which cost
    /// more per answer than signing its certificate. One shared instance; never reconfigured.
    public static let iotcaCompact: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(CivilTime(date).rfc3339)
        }
        return encoder
    }()
}
