import Crypto
import Foundation
import SwiftASN1
import X509

/// A certificate firmware trusts as the end of a chain: a root of the store, the next root
/// made in advance (`StandbyKey.certificateDER`), or a CA named on the command line.
public struct TrustAnchor: Sendable, Equatable {
    public enum Role: String, Sendable, Codable {
        case root
        /// Certified in advance; `rotate-root` makes this very certificate the root.
        case nextRoot = "next-root"
        /// Named with `--ca` (an intermediate, the service root for EST clients, ...).
        case named
    }

    public let name: String
    public let role: Role
    public let der: [UInt8]
    public let subject: String
    public let notAfter: Date
    public let sha256: [UInt8]
    /// The subject Name and SubjectPublicKeyInfo as DER: all an ESP-IDF bundle keeps.
    let subjectDER: [UInt8]
    let spkiDER: [UInt8]

    init(name: String, role: Role, der: [UInt8]) throws {
        let certificate = try Certificate(derEncoded: der)
        var subject = DER.Serializer()
        try subject.serialize(certificate.subject)
        var spki = DER.Serializer()
        try spki.serialize(certificate.publicKey)
        self.name = name
        self.role = role
        self.der = der
        self.subject = certificate.subject.description
        self.notAfter = certificate.notValidAfter
        self.sha256 = Array(SHA256.hash(data: der))
        self.subjectDER = subject.serializedBytes
        self.spkiDER = spki.serializedBytes
    }

    public var sha256Hex: String { sha256.hexString }

    /// One line naming the anchor, for comments and manifests.
    var summary: String {
        "\(name) (\(role.rawValue)): \(subject), not after \(Timestamp.format(notAfter)), SHA-256 \(sha256.hexString)"
    }
}
