import Foundation
import X509

/// A certificate authority kept in the store: its key file, its certificate and where it sits
/// in the hierarchy.
public struct Authority: Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        /// Self-signed: the trust anchor devices and brokers pin.
        case root
        /// Signed by a CA in this store, or by an external one (an offline root, ACM PCA).
        case subordinate
    }

    public enum Status: String, Codable, Sendable {
        case active
        /// Kept but refused for issuance by the operator (`iotca ca disable`).
        case disabled
        /// Waiting for its certificate from an external CA (`iotca ca import`).
        case pending
        /// Its certificate was revoked: it still publishes CRLs but never issues again.
        case revoked
    }

    public var id: Int64
    public var name: String
    public var kind: Kind
    public var parentName: String?
    public var status: Status
    public var keyAlgorithm: KeyAlgorithm
    /// Relative to the store folder.
    public var keyFile: String
    public var keyEncrypted: Bool
    public var certificateDER: [UInt8]?
    public var csrDER: [UInt8]?
    /// For a CA certified outside this store: its issuers, leaf first, up to the root.
    public var externalChainDER: [[UInt8]]
    public var subject: String
    public var notBefore: Date?
    public var notAfter: Date?
    public var createdAt: Date
    /// How long each CRL of this CA is valid (nextUpdate - thisUpdate).
    public var crlValidity: Int64
    /// Put in the cRLDistributionPoints of certificates this CA issues, when set.
    public var crlURL: String?
    /// Put in the authorityInformationAccess caIssuers of certificates this CA issues, when set.
    public var caIssuersURL: String?
    /// Put in the authorityInformationAccess OCSP of certificates this CA issues, when set
    /// (`iotca serve` answers at PUBLIC/ocsp).
    public var ocspURL: String? = nil
    /// A shell command run after each new CRL of this CA is written (to make brokers and
    /// servers read it: a SIGHUP, a reload), with IOTCA_CA, IOTCA_CRL_DER and IOTCA_CRL_PEM set.
    public var onPublish: String? = nil

    public static let defaultCRLValidity: Int64 = 7 * 86_400

    public func certificate() throws(StoreError) -> Certificate {
        guard let certificateDER else {
            throw .database("CA \(name) has no certificate yet")
        }
        do {
            return try Certificate(derEncoded: certificateDER)
        } catch {
            throw .database("the certificate of CA \(name) in the store does not parse: \(error)")
        }
    }
}

extension Authority {
    /// The key this CA's certificate certifies, or while it is pending, the key its CSR asks to
    /// have certified; nil when it has neither.
    /// - Throws: when the stored certificate or CSR does not parse.
    public func certifiedPublicKey() throws -> Certificate.PublicKey? {
        if let certificateDER { return try Certificate(derEncoded: certificateDER).publicKey }
        return try csrDER.map { try CertificateSigningRequest(derEncoded: $0).publicKey }
    }
}
