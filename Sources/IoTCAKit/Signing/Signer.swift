import Foundation
import SwiftASN1
import X509

/// Holds one CA's private key and signs exactly what policy decided. The key is opened once
/// per process and stays in memory; nothing else in the library sees it.
public struct Signer: Sendable {
    public let authorityName: String
    public let certificate: Certificate
    public let keyAlgorithm: KeyAlgorithm
    private let key: Certificate.PrivateKey

    public init(authorityName: String, certificate: Certificate, key: PrivateKeyMaterial) throws(SigningError) {
        guard key.publicKey == certificate.publicKey else {
            throw .keyDoesNotMatchCertificate(authority: authorityName)
        }
        self.authorityName = authorityName
        self.certificate = certificate
        self.keyAlgorithm = key.algorithm
        do {
            self.key = try key.signingKey()
        } catch {
            throw .signatureFailed("\(error)")
        }
    }

    public func sign(_ spec: CertificateSpec) throws(SigningError) -> IssuedCertificate {
        try Linter.check(spec, issuer: certificate)
        let issuerKeyID = (try? certificate.extensions.subjectKeyIdentifier)??.keyIdentifier
            ?? SubjectKeyIdentifier(hash: certificate.publicKey).keyIdentifier
        return try Self.build(spec, issuer: certificate.subject, issuerKeyID: issuerKeyID, key: key, algorithm: keyAlgorithm)
    }

    /// Signs the DER of a TBSCertList with the CA's key and algorithm; returns the signature
    /// value as it goes in the BIT STRING.
    func signature(forCRL tbs: [UInt8]) throws(SigningError) -> [UInt8] {
        do {
            return try key.sign(bytes: tbs, signatureAlgorithm: keyAlgorithm.signatureAlgorithm).rawRepresentation
        } catch {
            throw .signatureFailed("\(error)")
        }
    }

    /// A self-signed root: issuer = subject, and the AKI repeats the SKI, which `openssl verify
    /// -x509_strict` accepts and chain builders use to match the root.
    public static func selfSign(_ spec: CertificateSpec, key: PrivateKeyMaterial) throws(SigningError) -> IssuedCertificate {
        guard spec.publicKey == key.publicKey else { throw .lintFailed("a self-signed certificate must carry its own key") }
        try Linter.check(spec, issuer: nil)
        let signingKey: Certificate.PrivateKey
        do { signingKey = try key.signingKey() } catch { throw .signatureFailed("\(error)") }
        let keyID = SubjectKeyIdentifier(hash: spec.publicKey).keyIdentifier
        return try build(spec, issuer: spec.subject, issuerKeyID: keyID, key: signingKey, algorithm: key.algorithm)
    }

    /// CRLDistributionPoints ::= SEQUENCE OF DistributionPoint, with one point whose
    /// distributionPoint is fullName [0] GeneralNames { uniformResourceIdentifier [6] URL }.
    /// swift-certificates has no type for it.
    static func crlDistributionPoints(_ url: String) -> [UInt8] {
        var writer = DERWriter()
        writer.element(0x30) { points in
            points.element(0x30) { point in
                point.element(0xA0) { name in
                    name.element(0xA0) { fullName in
                        fullName.header(0x86, count: url.utf8.count)
                        fullName.append(Array(url.utf8))
                    }
                }
            }
        }
        return writer.bytes
    }

    private static func build(
        _ spec: CertificateSpec, issuer: DistinguishedName, issuerKeyID: ArraySlice<UInt8>,
        key: Certificate.PrivateKey, algorithm: KeyAlgorithm
    ) throws(SigningError) -> IssuedCertificate {
        do {
            var extensions = Certificate.Extensions()
            try extensions.append(Certificate.Extension(
                spec.isCA ? .isCertificateAuthority(maxPathLength: spec.pathLength) : .notCertificateAuthority,
                critical: true))
            try extensions.append(Certificate.Extension(spec.keyUsage, critical: true))
            if !spec.extendedKeyUsage.isEmpty {
                try extensions.append(Certificate.Extension(ExtendedKeyUsage(spec.extendedKeyUsage), critical: false))
            }
            try extensions.append(Certificate.Extension(SubjectKeyIdentifier(hash: spec.publicKey), critical: false))
            try extensions.append(Certificate.Extension(AuthorityKeyIdentifier(keyIdentifier: issuerKeyID), critical: false))
            if let url = spec.crlDistributionPoint {
                try extensions.append(Certificate.Extension(
                    oid: [2, 5, 29, 31], critical: false, value: ArraySlice(Self.crlDistributionPoints(url))))
            }
            if let url = spec.caIssuersURL {
                try extensions.append(Certificate.Extension(
                    AuthorityInformationAccess([.init(method: .issuingCA, location: .uniformResourceIdentifier(url))]),
                    critical: false))
            }
            if !spec.subjectAltNames.isEmpty {
                // RFC 5280 4.2.1.6: critical when the subject is empty.
                try extensions.append(Certificate.Extension(
                    SubjectAlternativeNames(spec.subjectAltNames.map(\.generalName)),
                    critical: spec.subject.isEmpty))
            }
            let certificate = try Certificate(
                version: .v3,
                serialNumber: spec.serial.x509,
                publicKey: spec.publicKey,
                notValidBefore: spec.notBefore,
                notValidAfter: spec.notAfter,
                issuer: issuer,
                subject: spec.subject,
                signatureAlgorithm: algorithm.signatureAlgorithm,
                extensions: extensions,
                issuerPrivateKey: key)
            return try IssuedCertificate(certificate)
        } catch let error as SigningError {
            throw error
        } catch {
            throw .signatureFailed("\(error)")
        }
    }
}
