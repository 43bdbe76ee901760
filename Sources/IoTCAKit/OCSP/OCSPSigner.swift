import Crypto
import Foundation
import X509

/// The delegated OCSP signer of one CA (RFC 6960 4.2.2.2): a key made in memory when the
/// responder first needs it, certified by the CA with extendedKeyUsage OCSPSigning and
/// id-pkix-ocsp-nocheck, valid for a few days and replaced before it ends. The CA's own key
/// signs only that certificate, not every response, and the signer's key never touches a disk:
/// a process that stops takes it along, and the next one certifies a new one.
public struct OCSPSigner: Sendable {
    public let authority: String
    public let certificateDER: [UInt8]
    public let serial: SerialNumber
    public let notAfter: Date
    let algorithm: KeyAlgorithm
    /// A key certified for OCSP alone, in memory; false when the CA answers itself.
    let delegated: Bool
    /// SHA-1 of the signer's subjectPublicKey bits: the responderID byKey (4.2.2.3).
    let keyHash: [UInt8]
    /// The signature over a ResponseData: the delegated key's, or the CA's own.
    private let signature: @Sendable ([UInt8]) throws -> [UInt8]

    /// How long a signer's certificate is valid, and how much of it may be left before it is
    /// replaced (responses are never valid past their signer).
    public static let validity: TimeInterval = 3 * 86_400
    public static let renewWhenLeft: TimeInterval = 86_400

    /// Certifies a new signer with the CA's `signer` and records its certificate in the store
    /// (without a thing, like the AWS verification certificate).
    static func issue(for authority: Authority, with signer: Signer, store: Store, now: Date) throws -> OCSPSigner {
        let name = "\(authority.name) OCSP responder"
        let template = Template(
            name: "ocsp-signer", description: nil, keyType: authority.keyAlgorithm, allowedKeyTypes: nil,
            validity: "\(Int(validity / 3_600))h", subject: .init(commonName: name), subjectAltNames: nil,
            keyUsage: ["digitalSignature"], extendedKeyUsage: ["ocspSigning"], ca: false, pathLength: nil)
        let key = try KeyGenerator().generate(authority.keyAlgorithm)
        let policy = IssuancePolicy(template: template, thing: name, organization: try store.organization())
        var spec = try policy.decide(publicKey: key.publicKey, issuerName: authority.name, issuer: signer.certificate, now: now)
        spec.subjectPublicKeyInfoDER = key.subjectPublicKeyInfoDER
        spec.ocspNoCheck = true
        let issued = try signer.sign(spec)
        let entry = CertificateEntry(issued: issued, authority: authority.name, thing: nil, subjectAuthority: nil,
                                     template: template.name, keyAlgorithm: key.algorithm, now: now)
        try store.recordCertificate(entry, action: "ocsp.signer", subject: authority.name)
        guard let bits = CertificateWriter.subjectPublicKeyBits(key.subjectPublicKeyInfoDER) else {
            throw SigningError.signatureFailed("the OCSP signer's public key does not encode")
        }
        let signingKey = try key.signingKey()
        let algorithm = key.algorithm
        return OCSPSigner(authority: authority.name, certificateDER: issued.der, serial: issued.serial, notAfter: issued.notValidAfter,
                          algorithm: algorithm, delegated: true, keyHash: Array(Insecure.SHA1.hash(data: bits))) { tbs in
            try signingKey.sign(bytes: tbs, signatureAlgorithm: algorithm.signatureAlgorithm).rawRepresentation
        }
    }

    /// The CA answering for itself (RFC 6960 4.2.2.2 allows the issuing CA to sign): for a CA
    /// that may certify nothing new (disabled or revoked), so no delegated signer is made; valid
    /// as long as the CA's certificate.
    static func caItself(_ authority: Authority, signer: Signer) throws -> OCSPSigner {
        guard let der = authority.certificateDER, let (_, bits) = OCSPResponder.subjectAndKeyBits(der) else {
            throw SigningError.signatureFailed("CA \(authority.name) has no certificate to answer OCSP with")
        }
        return OCSPSigner(authority: authority.name, certificateDER: der, serial: SerialNumber(signer.certificate.serialNumber),
                          notAfter: signer.certificate.notValidAfter, algorithm: signer.keyAlgorithm, delegated: false,
                          keyHash: Array(Insecure.SHA1.hash(data: bits))) { tbs in try signer.signature(forCRL: tbs) }
    }

    /// Whether a signature costs microseconds: a delegated key in memory of an elliptic curve,
    /// not the CA's own key (maybe on a token) nor RSA (milliseconds).
    var signsQuickly: Bool {
        guard delegated else { return false }
        switch algorithm {
        case .ecP256, .ecP384, .ed25519: return true
        case .rsa2048, .rsa3072, .rsa4096: return false
        }
    }

    /// Whether it is time to certify the next one.
    func isDue(at now: Date) -> Bool { notAfter.timeIntervalSince(now) < Self.renewWhenLeft }

    /// The signature over a ResponseData, as it goes in the BIT STRING.
    func sign(_ tbs: [UInt8]) throws -> [UInt8] { try signature(tbs) }
}
