import Foundation

/// One certificate a CA of this store has issued, as the store records it.
public struct CertificateEntry: Sendable, Equatable {
    public enum Status: String, Codable, Sendable { case active, revoked }

    /// Whether the thing's bundle is known to exist. Boulder keeps a serial's status `wait`
    /// until issuance completes; here a certificate is `recorded` from its commit until its
    /// bundle is written (and synced), then `written`. Only a `recorded` certificate can be
    /// re-issued by a batch run without being asked to (`iotca batch` recovery), and only by
    /// a run writing the same format to the same folder (`deliveryTarget`).
    public enum Delivery: String, Codable, Sendable { case recorded, written }

    public var serial: SerialNumber
    public var authority: String
    /// The thing it was issued to; nil for a CA certificate.
    public var thing: String?
    /// The CA it certifies, for CA certificates.
    public var subjectAuthority: String?
    public var template: String
    public var subject: String
    public var subjectAltNames: [String]
    public var keyAlgorithm: KeyAlgorithm
    public var notBefore: Date
    public var notAfter: Date
    public var status: Status
    public var revokedAt: Date?
    public var revocationReason: String?
    public var fingerprintSHA256: String
    public var spkiSHA256: String
    public var der: [UInt8]
    public var createdAt: Date
    public var delivery: Delivery = .written
    /// `FORMAT:PATH` of the output the bundle goes to (e.g. `dir:/srv/line-1/bundles`).
    public var deliveryTarget: String?

    public var pem: String { IssuedCertificate.pem(der) }
}
