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
    }
}

extension BundleManifest {
    /// The manifest as `JSONEncoder.iotca` would write it (sorted keys, two-space indent), written
    /// directly: JSONEncoder took a twentieth of a batch's time.
    var prettyJSON: [UInt8] {
        func text(_ value: String) -> String { CompactJSON.string(value) }
        func time(_ date: Date) -> String { text(CivilTime(date).rfc3339) }
        func list(_ values: [String]) -> String {
            values.isEmpty ? "[\n\n  ]" : "[\n" + values.map { "    " + text($0) }.joined(separator: ",\n") + "\n  ]"
        }
        let fields: [(String, String)] = [
            ("authority", text(authority)), ("certificate_sha256", text(certificateSHA256)), ("files", list(files)),
            ("key_source", text(keySource)), ("key_type", text(keyType)), ("not_after", time(notAfter)),
            ("not_before", time(notBefore)), ("root_certificate_sha256", text(rootCertificateSHA256)),
            ("root_spki_sha256", text(rootSPKISHA256)), ("root_spki_sha256_hex", text(rootSPKISHA256Hex)),
            ("serial", text(serial)), ("spki_sha256", text(spkiSHA256)), ("subject", text(subject)),
            ("subject_alt_names", list(subjectAltNames)), ("template", text(template)), ("thing", text(thing)),
        ]
        return Array(("{\n" + fields.map { "  \"\($0.0)\" : \($0.1)" }.joined(separator: ",\n") + "\n}\n").utf8)
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
}
