import Crypto
import Foundation
import X509

/// One hash a client can pin: a CA in use, or a standby root key (a backup pin).
public struct Pin: Sendable, Equatable, Codable {
    /// `leaf`: a thing's own certificate (a server whose clients pin its key).
    public enum Role: String, Sendable, Codable { case root, intermediate, leaf, backup }

    public var name: String
    public var role: Role
    public var subject: String?
    public var notAfter: Date?
    public var spkiSHA256: [UInt8]
    public var certificateSHA256: [UInt8]?
    public var certificateSHA1: [UInt8]?

    public var spkiSHA256Base64: String { Data(spkiSHA256).base64EncodedString() }

    enum CodingKeys: String, CodingKey {
        case name, role, subject
        case notAfter = "not_after"
        case spkiBase64 = "spki_sha256"
        case spkiHex = "spki_sha256_hex"
        case certificateSHA256 = "certificate_sha256"
        case certificateSHA1 = "certificate_sha1"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(role, forKey: .role)
        try container.encode(subject, forKey: .subject)
        try container.encode(notAfter, forKey: .notAfter)
        try container.encode(spkiSHA256Base64, forKey: .spkiBase64)
        try container.encode(spkiSHA256.hexString, forKey: .spkiHex)
        try container.encode(certificateSHA256?.hexString, forKey: .certificateSHA256)
        try container.encode(certificateSHA1?.hexString, forKey: .certificateSHA1)
    }
}

extension Pin {
    /// The `--json` form read back (what `iotca serve` answers).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        func hex(_ key: CodingKeys) throws -> [UInt8]? {
            guard let text = try container.decodeIfPresent(String.self, forKey: key) else { return nil }
            guard let bytes = Hex.decode(text) else {
                throw DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: "not hex")
            }
            return bytes
        }
        name = try container.decode(String.self, forKey: .name)
        role = try container.decode(Role.self, forKey: .role)
        subject = try container.decodeIfPresent(String.self, forKey: .subject)
        notAfter = try container.decodeIfPresent(Date.self, forKey: .notAfter)
        guard let spki = try hex(.spkiHex) else {
            throw DecodingError.keyNotFound(CodingKeys.spkiHex, .init(codingPath: container.codingPath, debugDescription: "missing"))
        }
        spkiSHA256 = spki
        certificateSHA256 = try hex(.certificateSHA256)
        certificateSHA1 = try hex(.certificateSHA1)
    }
}

/// `iotca pins`: the pins of the CAs in use and of the standby root keys, in the forms
/// firmware and clients take.
public enum PinSet {
    public enum Format: String, CaseIterable, Sendable { case text, json, c, curl, hpkp }

    /// The CAs named (each with its chain up to the root), or every CA that has a certificate,
    /// then every standby key as a backup pin.
    public static func collect(from store: Store, authorities names: [String] = []) throws -> [Pin] {
        var certificates: [(String, [UInt8])] = []
        if names.isEmpty {
            // Firmware pins what devices connect to: the service's own CAs only when named.
            certificates = try store.authorities().filter { !ServiceHierarchy.isReserved($0.name) }
                .compactMap { authority in authority.certificateDER.map { (authority.name, $0) } }
        } else {
            for name in names {
                let authority = try store.authority(named: name)
                let chain = try store.chain(of: authority)
                var names = [authority.name]
                var current = authority
                while let parent = current.parentName {
                    current = try store.authority(named: parent)
                    names.append(parent)
                }
                for (index, der) in (chain.intermediates + [chain.root]).enumerated() {
                    let label = index < names.count ? names[index] : "external-\(index)"
                    if !certificates.contains(where: { $0.1 == der }) { certificates.append((label, der)) }
                }
            }
        }
        var pins: [Pin] = []
        for (name, der) in certificates {
            let certificate = try Certificate(derEncoded: der)
            pins.append(Pin(
                name: name, role: certificate.issuer == certificate.subject ? .root : .intermediate,
                subject: certificate.subject.description, notAfter: certificate.notValidAfter,
                spkiSHA256: try Fingerprints.spkiSHA256(of: certificate.publicKey),
                certificateSHA256: Array(SHA256.hash(data: der)), certificateSHA1: Array(Insecure.SHA1.hash(data: der))))
        }
        for standby in try store.standbyKeys() {
            // The next root's certificate, when made in advance, is what firmware trust stores
            // carry: its fingerprints let an engineer check the anchor compiled in.
            let certificate = try standby.certificateDER.map { try Certificate(derEncoded: $0) }
            pins.append(Pin(name: standby.name, role: .backup, subject: certificate?.subject.description, notAfter: certificate?.notValidAfter,
                            spkiSHA256: try Self.pinBytes(standby),
                            certificateSHA256: standby.certificateDER.map { Array(SHA256.hash(data: $0)) },
                            certificateSHA1: standby.certificateDER.map { Array(Insecure.SHA1.hash(data: $0)) }))
        }
        return pins
    }

    /// The pins of `thing`'s active certificates, then its prepared next key's as the backup:
    /// what clients that pin a server's own key compile in (curl's --pinnedpubkey checks only
    /// the server's certificate, so CA pins do not help there).
    /// - Throws: `CertificateNotFound` when it has no active certificate, `StoreError`.
    public static func collect(from store: Store, thing: String) throws -> [Pin] {
        let active = try store.certificates(CertificateFilter(thing: thing, status: .active))
        guard !active.isEmpty else { throw CertificateNotFound(selector: thing) }
        var pins: [Pin] = []
        for entry in active {
            let certificate = try Certificate(derEncoded: entry.der)
            let spki = try Fingerprints.spkiSHA256(of: certificate.publicKey)
            // A renewal that kept the key: one pin for both certificates.
            if pins.contains(where: { $0.spkiSHA256 == spki }) { continue }
            pins.append(Pin(name: thing, role: .leaf, subject: certificate.subject.description, notAfter: certificate.notValidAfter,
                            spkiSHA256: spki, certificateSHA256: Array(SHA256.hash(data: entry.der)),
                            certificateSHA1: Array(Insecure.SHA1.hash(data: entry.der))))
        }
        // The newest certificate's prepared key: the one next-key.pem holds now.
        if let (_, spki) = try store.nextKeyPins(thing: thing).last {
            guard let bytes = Hex.decode(spki), bytes.count == 32 else {
                throw StoreError.corruptRow(table: "next_keys", key: thing, detail: "spki_sha256: not 32 bytes of hex")
            }
            if !pins.contains(where: { $0.spkiSHA256 == bytes }) {
                pins.append(Pin(name: "\(thing)-next", role: .backup, subject: nil, notAfter: nil, spkiSHA256: bytes,
                                certificateSHA256: nil, certificateSHA1: nil))
            }
        }
        return pins
    }

    private static func pinBytes(_ standby: StandbyKey) throws -> [UInt8] {
        guard let bytes = Hex.decode(standby.spkiSHA256), bytes.count == 32 else {
            throw StoreError.corruptRow(table: "standby_keys", key: standby.name, detail: "spki_sha256: not 32 bytes of hex")
        }
        return bytes
    }

    public static func render(_ pins: [Pin], as format: Format) throws -> String {
        switch format {
        case .json:
            return String(decoding: try JSONEncoder.iotca.encode(pins), as: UTF8.self) + "\n"
        case .curl:
            // curl --pinnedpubkey 'sha256//A;sha256//B'
            return pins.map { "sha256//\($0.spkiSHA256Base64)" }.joined(separator: ";") + "\n"
        case .hpkp:
            return pins.map { "pin-sha256=\"\($0.spkiSHA256Base64)\"" }.joined(separator: "; ") + "\n"
        case .text:
            return pins.map { pin in
                var lines = ["\(pin.name) (\(pin.role.rawValue))\(pin.subject.map { ": \($0)" } ?? "")"]
                if let notAfter = pin.notAfter { lines.append("  not after        \(CivilTime(notAfter).rfc3339)") }
                lines.append("  spki sha256      \(pin.spkiSHA256Base64)")
                lines.append("  spki sha256 hex  \(pin.spkiSHA256.hexString)")
                if let sha256 = pin.certificateSHA256 { lines.append("  cert sha256      \(sha256.colonHexString)") }
                if let sha1 = pin.certificateSHA1 { lines.append("  cert sha1        \(sha1.colonHexString)") }
                return lines.joined(separator: "\n")
            }.joined(separator: "\n") + "\n"
        case .c:
            return cHeader(pins)
        }
    }

    /// A header firmware compiles in: byte arrays and base64 strings per pin, and the list of
    /// all SPKI pins (current first, then backups) for a loop in the TLS verify callback.
    /// Subjects are operator input (`init --org`): they go into comments escaped, and every
    /// pin gets an identifier of its own even when names differ only in punctuation or case.
    static func cHeader(_ pins: [Pin]) -> String {
        let names = CIdentifiers.unique(pins.map(\.name))
        func bytes(_ value: [UInt8]) -> String {
            stride(from: 0, to: value.count, by: 8).map { start in
                "    " + value[start..<min(start + 8, value.count)].map { String(format: "0x%02x", $0) }.joined(separator: ", ")
            }.joined(separator: ",\n")
        }
        var text = """
            /* Pins generated by `iotca pins --format c`. SPKI pins are SHA-256 of the DER
             * SubjectPublicKeyInfo (RFC 7469); backup pins belong to standby root keys. */
            #ifndef IOTCA_PINS_H
            #define IOTCA_PINS_H

            #include <stdint.h>


            """
        for (pin, name) in zip(pins, names) {
            let about = "\(pin.name): \(pin.role.rawValue)\(pin.subject.map { ", \($0)" } ?? "")\(pin.notAfter.map { ", not after \(CivilTime($0).rfc3339)" } ?? "")"
            text += "/* \(CIdentifiers.commentText(about)) */\n"
            text += "static const uint8_t \(name)_SPKI_SHA256[32] = {\n\(bytes(pin.spkiSHA256))\n};\n"
            text += "static const char \(name)_SPKI_SHA256_B64[] = \"\(pin.spkiSHA256Base64)\";\n"
            if let sha256 = pin.certificateSHA256 {
                text += "static const uint8_t \(name)_CERT_SHA256[32] = {\n\(bytes(sha256))\n};\n"
            }
            text += "\n"
        }
        text += "#define IOTCA_PIN_COUNT \(pins.count)\n"
        text += "static const uint8_t *const IOTCA_SPKI_PINS[IOTCA_PIN_COUNT] = {\n"
        text += names.map { "    \($0)_SPKI_SHA256" }.joined(separator: ",\n")
        text += "\n};\n\n#endif /* IOTCA_PINS_H */\n"
        return text
    }
}
