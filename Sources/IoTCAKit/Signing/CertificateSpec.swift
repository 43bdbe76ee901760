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
    /// The issuer's CRL URL, written as cRLDistributionPoints (RFC 5280 4.2.1.13).
    public var crlDistributionPoint: String? = nil
    /// The issuer certificate's URL, written as authorityInformationAccess caIssuers (4.2.2.1).
    public var caIssuersURL: String? = nil
    /// The issuer's OCSP responder, written as authorityInformationAccess OCSP (4.2.2.1).
    public var ocspURL: String? = nil
    /// id-pkix-ocsp-nocheck (RFC 6960 4.2.2.2.1): for a delegated OCSP signer, whose own status
    /// relying parties do not check.
    public var ocspNoCheck = false
    /// `publicKey` as SubjectPublicKeyInfo DER, when the caller already has it (a key it just
    /// generated): saves re-encoding the key.
    public var subjectPublicKeyInfoDER: [UInt8]? = nil
    /// The Matter profile the signed certificate must pass before release (`MatterProfileCheck`).
    public var matter: MatterRole? = nil
}
