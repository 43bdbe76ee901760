import Crypto
import _CryptoExtras
import X509

/// The key types iotca generates and accepts, named as on the command line and in templates.
public enum KeyAlgorithm: String, Codable, Sendable, CaseIterable {
    case ecP256 = "ec-p256"
    case ecP384 = "ec-p384"
    case ed25519 = "ed25519"
    case rsa2048 = "rsa-2048"
    case rsa3072 = "rsa-3072"
    case rsa4096 = "rsa-4096"

    public static var namesForHelp: String { allCases.map(\.rawValue).joined(separator: "|") }

    public var isRSA: Bool { rsaBits != nil }
    public var isEC: Bool { self == .ecP256 || self == .ecP384 }

    var rsaBits: Int32? {
        switch self {
        case .rsa2048: return 2048
        case .rsa3072: return 3072
        case .rsa4096: return 4096
        default: return nil
        }
    }

    /// The signature algorithm a CA with this key signs with: the hash matches the curve size
    /// (RFC 5480 section 4), SHA-256 for RSA, pure EdDSA for Ed25519 (RFC 8410).
    public var signatureAlgorithm: Certificate.SignatureAlgorithm {
        switch self {
        case .ecP256: return .ecdsaWithSHA256
        case .ecP384: return .ecdsaWithSHA384
        case .ed25519: return .ed25519
        case .rsa2048, .rsa3072, .rsa4096: return .sha256WithRSAEncryption
        }
    }

    /// Identifies the algorithm of a public key from a certificate or CSR; nil for keys iotca
    /// does not accept (P-521, RSA outside 2048/3072/4096).
    public init?(publicKey: Certificate.PublicKey) {
        if P256.Signing.PublicKey(publicKey) != nil {
            self = .ecP256
        } else if P384.Signing.PublicKey(publicKey) != nil {
            self = .ecP384
        } else if Curve25519.Signing.PublicKey(publicKey) != nil {
            self = .ed25519
        } else if let rsa = _RSA.Signing.PublicKey(publicKey) {
            switch rsa.keySizeInBits {
            case 2048: self = .rsa2048
            case 3072: self = .rsa3072
            case 4096: self = .rsa4096
            default: return nil
            }
        } else {
            return nil
        }
    }
}

extension KeyAlgorithm {
    /// The AlgorithmIdentifier of `signatureAlgorithm`, DER, as certificates and CRLs carry it: no parameters for ECDSA (RFC 5758
    /// 3.2) and Ed25519 (RFC 8410 3), NULL for RSA PKCS#1 v1.5 (RFC 4055 5).
    var signatureAlgorithmIdentifierDER: [UInt8] {
        switch self {
        case .ecP256: return [0x30, 0x0A, 0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x03, 0x02]
        case .ecP384: return [0x30, 0x0A, 0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x03, 0x03]
        case .ed25519: return [0x30, 0x05, 0x06, 0x03, 0x2B, 0x65, 0x70]
        case .rsa2048, .rsa3072, .rsa4096:
            return [0x30, 0x0D, 0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x0B, 0x05, 0x00]
        }
    }
}
