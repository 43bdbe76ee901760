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
        self.spkiSHA256 = try Self.spkiSHA256(of: publicKey)
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
