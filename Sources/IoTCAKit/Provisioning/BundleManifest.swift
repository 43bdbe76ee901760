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
    /// The manifest as `JSONEncoder.iotca` writes it (sorted keys, two-space indent) and a
    /// newline, written directly as bytes: JSONEncoder took a twentieth of a batch's time.
    var prettyJSON: [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(1024)
        var first = true
        func key(_ name: StaticString) {
            bytes.append(contentsOf: first ? [UInt8(ascii: "{"), 0x0A] : [UInt8(ascii: ","), 0x0A])
            first = false
            bytes.append(contentsOf: [0x20, 0x20, UInt8(ascii: "\"")])
            name.withUTF8Buffer { bytes.append(contentsOf: $0) }
            bytes.append(contentsOf: [UInt8(ascii: "\""), 0x20, UInt8(ascii: ":"), 0x20])
        }
        func text(_ name: StaticString, _ value: String) {
            key(name)
            CompactJSON.append(value, to: &bytes)
        }
        func list(_ name: StaticString, _ values: [String]) {
            key(name)
            bytes.append(contentsOf: [UInt8(ascii: "["), 0x0A])
            for (index, value) in values.enumerated() {
                bytes.append(contentsOf: index == 0 ? [0x20, 0x20, 0x20, 0x20] : [UInt8(ascii: ","), 0x0A, 0x20, 0x20, 0x20, 0x20])
                CompactJSON.append(value, to: &bytes)
            }
            bytes.append(contentsOf: [0x0A, 0x20, 0x20, UInt8(ascii: "]")])
        }
        text("authority", authority)
        text("certificate_sha256", certificateSHA256)
        list("files", files)
        text("key_source", keySource)
        text("key_type", keyType)
        text("not_after", CivilTime(notAfter).rfc3339)
        text("not_before", CivilTime(notBefore).rfc3339)
        text("root_certificate_sha256", rootCertificateSHA256)
        text("root_spki_sha256", rootSPKISHA256)
        text("root_spki_sha256_hex", rootSPKISHA256Hex)
        text("serial", serial)
        text("spki_sha256", spkiSHA256)
        text("subject", subject)
        list("subject_alt_names", subjectAltNames)
        text("template", template)
        text("thing", thing)
        bytes.append(contentsOf: [0x0A, UInt8(ascii: "}"), 0x0A])
        return bytes
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
