import Foundation
import X509

/// A certificate fully decided by policy: the Signer builds exactly this and adds nothing of
/// its own but the issuer name, the key identifiers and the signature.
public struct CertificateSpec: Sendable {
    public var serial: SerialNumber
    public var subject: DistinguishedName
    public var publicKey: Certificate.PublicKey
    public var notBefore: Date
    public var notAfter: Date
    public var isCA: Bool
    public var pathLength: Int?
    public var keyUsage: KeyUsage
    public var extendedKeyUsage: [ExtendedKeyUsage.Usage]
    public var subjectAltNames: [SubjectAltName]
}
