import Foundation
import SwiftASN1
import X509

/// Holds one CA's private key and signs exactly what policy decided. The key is opened once
/// per process and stays in memory; nothing else in the library sees it.
public struct Signer: Sendable {
    public let authorityName: String
    public let certificate: Certificate
    /// The certificate as the store holds it, to tell a CA whose certificate changed.
    let certificateDER: [UInt8]
    public let keyAlgorithm: KeyAlgorithm
    private let key: Certificate.PrivateKey
    private let issuer: CertificateWriter.Issuer

    public init(authorityName: String, certificate: Certificate, key: PrivateKeyMaterial) throws(SigningError) {
        let signingKey: Certificate.PrivateKey
        do { signingKey = try key.signingKey() } catch { throw .signatureFailed("\(error)") }
        try self.init(authorityName: authorityName, certificate: certificate, signingKey: signingKey, publicKey: key.publicKey,
                      algorithm: key.algorithm)
    }

    /// A signer whose key is anywhere swift-certificates can sign with (a key file's, a token's).
    public init(authorityName: String, certificate: Certificate, signingKey: Certificate.PrivateKey,
                publicKey: Certificate.PublicKey, algorithm: KeyAlgorithm) throws(SigningError) {
        guard publicKey == certificate.publicKey else {
            throw .keyDoesNotMatchCertificate(authority: authorityName)
        }
        self.authorityName = authorityName
        self.certificate = certificate
        self.certificateDER = (try? certificate.serializeAsPEM().derBytes) ?? []
        self.keyAlgorithm = algorithm
        self.key = signingKey
        do {
            let keyID = (try? certificate.extensions.subjectKeyIdentifier)??.keyIdentifier
                ?? SubjectKeyIdentifier(hash: certificate.publicKey).keyIdentifier
            self.issuer = try CertificateWriter.Issuer(name: certificate.subject, keyIdentifier: Array(keyID),
                                                       signatureAlgorithm: algorithm)
        } catch {
            throw .signatureFailed("\(error)")
        }
    }

    public func sign(_ spec: CertificateSpec) throws(SigningError) -> IssuedCertificate {
        try Linter.check(spec, issuer: certificate)
        let issued = try Self.build(spec, issuer: issuer, issuerName: certificate.subject, key: key)
        // CA certificates always have their signature verified; device certificates as
        // `verifiesEndEntitySignatures` says (measured in the README: it costs the batch).
        try ReleaseCheck.check(issued.der, against: spec, issuerName: certificate.subject, issuerKey: certificate.publicKey,
                               verifySignature: spec.isCA || Self.verifiesEndEntitySignatures)
        return issued
    }

    /// Whether every device certificate's signature is verified before release, besides the
    /// re-parse and field comparison every certificate gets.
    static let verifiesEndEntitySignatures = true

    /// Signs the DER of a TBSCertList with the CA's key and algorithm; returns the signature
    /// value as it goes in the BIT STRING.
    func signature(forCRL tbs: some DataProtocol) throws(SigningError) -> [UInt8] {
        do {
            return try key.sign(bytes: tbs, signatureAlgorithm: keyAlgorithm.signatureAlgorithm).rawRepresentation
        } catch {
            throw .signatureFailed("\(error)")
        }
    }

    /// A self-signed root: issuer = subject, and the AKI repeats the SKI, which `openssl verify
    /// -x509_strict` accepts and chain builders use to match the root.
    public static func selfSign(_ spec: CertificateSpec, key: PrivateKeyMaterial) throws(SigningError) -> IssuedCertificate {
        let signingKey: Certificate.PrivateKey
        do { signingKey = try key.signingKey() } catch { throw .signatureFailed("\(error)") }
        return try selfSign(spec, signingKey: signingKey, publicKey: key.publicKey, algorithm: key.algorithm)
    }

    public static func selfSign(_ spec: CertificateSpec, signingKey: Certificate.PrivateKey, publicKey: Certificate.PublicKey,
                                algorithm: KeyAlgorithm) throws(SigningError) -> IssuedCertificate {
        guard spec.publicKey == publicKey else { throw .lintFailed("a self-signed certificate must carry its own key") }
        try Linter.check(spec, issuer: nil)
        let issuer: CertificateWriter.Issuer
        do {
            issuer = try CertificateWriter.Issuer(name: spec.subject, keyIdentifier: Array(SubjectKeyIdentifier(hash: spec.publicKey).keyIdentifier),
                                                  signatureAlgorithm: algorithm)
        } catch {
            throw .signatureFailed("\(error)")
        }
        let issued = try build(spec, issuer: issuer, issuerName: spec.subject, key: signingKey)
        try ReleaseCheck.check(issued.der, against: spec, issuerName: spec.subject, issuerKey: publicKey, verifySignature: true)
        return issued
    }

    private static func build(_ spec: CertificateSpec, issuer: CertificateWriter.Issuer, issuerName: DistinguishedName,
                              key: Certificate.PrivateKey) throws(SigningError) -> IssuedCertificate {
        do {
            let tbs = try CertificateWriter.tbsCertificate(spec, issuer: issuer)
            let signature = try key.sign(bytes: tbs, signatureAlgorithm: issuer.signatureAlgorithm.signatureAlgorithm)
            let der = CertificateWriter.certificate(tbs: tbs, algorithm: issuer.signatureAlgorithm,
                                                    signature: Array(signature.rawRepresentation))
            return try IssuedCertificate(der: der, spec: spec, issuer: issuerName)
        } catch let error as SigningError {
            throw error
        } catch {
            throw .signatureFailed("\(error)")
        }
    }
}
