import Crypto
import Foundation
@testable import IoTCAKit
import SwiftASN1
import Testing
import X509

/// `CertificateWriter` writes certificate DER by hand for speed; swift-certificates is the
/// oracle: for the same spec, both must produce the same TBSCertificate bytes.
@Suite struct CertificateWriterTests {
    struct Variant: CustomTestStringConvertible, Sendable {
        let name: String
        let make: @Sendable (Certificate.PublicKey) throws -> CertificateSpec
        var testDescription: String { name }
    }

    static let now = Date(timeIntervalSince1970: 1_795_000_000.6)  // a fraction, rounded like swift-certificates

    static let variants: [Variant] = [
        Variant(name: "device") { key in
            CertificateSpec(
                serial: .random(), subject: try DistinguishedName { OrganizationName("iotca"); CommonName("dev-42") },
                publicKey: key, notBefore: now - 300, notAfter: now + 365 * 86_400, isCA: false, pathLength: nil,
                keyUsage: KeyUsage(digitalSignature: true), extendedKeyUsage: [.clientAuth],
                subjectAltNames: [try SubjectAltName("uri:urn:iotca:thing:dev-42")])
        },
        Variant(name: "server with URLs, several names") { key in
            var spec = CertificateSpec(
                serial: .random(), subject: try DistinguishedName { CountryName("DE"); OrganizationName("Acme GmbH"); CommonName("broker.local") },
                publicKey: key, notBefore: now, notAfter: now + 90 * 86_400, isCA: false, pathLength: nil,
                keyUsage: KeyUsage(digitalSignature: true, keyEncipherment: true), extendedKeyUsage: [.serverAuth, .clientAuth],
                subjectAltNames: [try SubjectAltName("dns:broker.local"), try SubjectAltName("ip:127.0.0.1"),
                                  try SubjectAltName("ip:::1"), try SubjectAltName("email:ops@example.com")])
            spec.crlDistributionPoint = "http://pki.example.com/crl/issuing.crl"
            spec.caIssuersURL = "http://pki.example.com/ca/issuing.crt"
            return spec
        },
        Variant(name: "sub-CA beyond 2049 (GeneralizedTime)") { key in
            CertificateSpec(
                serial: .random(), subject: try DistinguishedName { OrganizationName("iotca"); CommonName("issuing") },
                publicKey: key, notBefore: now, notAfter: Date(timeIntervalSince1970: 2_600_000_000), isCA: true, pathLength: 0,
                keyUsage: KeyUsage(digitalSignature: true, keyCertSign: true, cRLSign: true), extendedKeyUsage: [],
                subjectAltNames: [])
        },
        Variant(name: "root without path length") { key in
            CertificateSpec(
                serial: .random(), subject: try DistinguishedName { OrganizationName("iotca"); CommonName("root") },
                publicKey: key, notBefore: now, notAfter: now + 20 * 365 * 86_400, isCA: true, pathLength: nil,
                keyUsage: KeyUsage(keyCertSign: true, cRLSign: true), extendedKeyUsage: [], subjectAltNames: [])
        },
        Variant(name: "empty subject (critical SAN)") { key in
            CertificateSpec(
                serial: SerialNumber(bytes: [0x00, 0x80, 0x01]), subject: DistinguishedName(),
                publicKey: key, notBefore: now, notAfter: now + 86_400, isCA: false, pathLength: nil,
                keyUsage: KeyUsage(digitalSignature: true), extendedKeyUsage: [.clientAuth],
                subjectAltNames: [try SubjectAltName("dns:device.example.com")])
        },
    ]

    @Test(arguments: [KeyAlgorithm.ecP256, .ecP384, .ed25519, .rsa2048])
    func tbsBytesEqualSwiftCertificates(issuerAlgorithm: KeyAlgorithm) throws {
        let generator = KeyGenerator()
        let issuerKey = try generator.generate(issuerAlgorithm)
        let issuerName = try DistinguishedName { OrganizationName("iotca"); CommonName("issuing CA") }
        let issuerKeyID = Array(SubjectKeyIdentifier(hash: issuerKey.publicKey).keyIdentifier)
        let issuer = try CertificateWriter.Issuer(name: issuerName, keyIdentifier: issuerKeyID, signatureAlgorithm: issuerAlgorithm)
        for subjectAlgorithm in [KeyAlgorithm.ecP256, .ecP384, .ed25519, .rsa2048] {
            let subjectKey = try generator.generate(subjectAlgorithm)
            for variant in Self.variants {
                var spec = try variant.make(subjectKey.publicKey)
                let expected = try Self.reference(spec, issuer: issuerName, issuerKeyID: issuerKeyID, key: issuerKey)
                // Both with the SPKI the caller already had and with the key re-encoded.
                #expect(try CertificateWriter.tbsCertificate(spec, issuer: issuer) == Array(expected.tbsCertificateBytes),
                        "\(variant.name), \(subjectAlgorithm) key")
                spec.subjectPublicKeyInfoDER = subjectKey.subjectPublicKeyInfoDER
                #expect(try CertificateWriter.tbsCertificate(spec, issuer: issuer) == Array(expected.tbsCertificateBytes),
                        "\(variant.name), \(subjectAlgorithm) key, SPKI given")
            }
        }
    }

    @Test(arguments: [KeyAlgorithm.ecP256, .ecP384, .ed25519, .rsa2048])
    func signedCertificatesParseAndVerify(algorithm: KeyAlgorithm) throws {
        let key = try KeyGenerator().generate(algorithm)
        var spec = try Self.variants[3].make(key.publicKey)
        spec.subjectPublicKeyInfoDER = key.subjectPublicKeyInfoDER
        let issued = try Signer.selfSign(spec, key: key)
        let parsed = try issued.parsed()
        #expect(key.publicKey.isValidSignature(parsed.signature, for: parsed))
        #expect(parsed.signatureAlgorithm == algorithm.signatureAlgorithm)
        #expect(parsed.subject == spec.subject && parsed.issuer == spec.subject)
        #expect(SerialNumber(parsed.serialNumber) == spec.serial && issued.serial == spec.serial)
        #expect(parsed.notValidBefore == issued.notValidBefore && parsed.notValidAfter == issued.notValidAfter)
        #expect(try parsed.fingerprints() == issued.fingerprints)
        let reference = try IssuedCertificate(parsed)
        #expect(reference.der == issued.der && reference.fingerprints == issued.fingerprints)
    }

    @Test func spkiIsFoundInCertificates() throws {
        let key = try KeyGenerator().generate(.ecP256)
        let issued = try Signer.selfSign(try Self.variants[3].make(key.publicKey), key: key)
        #expect(Fingerprints.subjectPublicKeyInfo(inCertificate: issued.der).map(Array.init) == key.subjectPublicKeyInfoDER)
        #expect(Fingerprints.subjectPublicKeyInfo(inCertificate: Array(issued.der.prefix(40))) == nil)
        #expect(Fingerprints.subjectPublicKeyInfo(inCertificate: []) == nil)
        #expect(issued.fingerprints.spkiSHA256 == (try Fingerprints.spkiSHA256(of: key.publicKey)))
    }

    /// How the Signer built certificates before CertificateWriter, through swift-certificates.
    static func reference(_ spec: CertificateSpec, issuer: DistinguishedName, issuerKeyID: [UInt8],
                          key: PrivateKeyMaterial) throws -> Certificate {
        var extensions = Certificate.Extensions()
        try extensions.append(Certificate.Extension(
            spec.isCA ? .isCertificateAuthority(maxPathLength: spec.pathLength) : .notCertificateAuthority, critical: true))
        try extensions.append(Certificate.Extension(spec.keyUsage, critical: true))
        if !spec.extendedKeyUsage.isEmpty {
            try extensions.append(Certificate.Extension(ExtendedKeyUsage(spec.extendedKeyUsage), critical: false))
        }
        try extensions.append(Certificate.Extension(SubjectKeyIdentifier(hash: spec.publicKey), critical: false))
        try extensions.append(Certificate.Extension(AuthorityKeyIdentifier(keyIdentifier: issuerKeyID[...]), critical: false))
        if let url = spec.crlDistributionPoint {
            try extensions.append(Certificate.Extension(oid: [2, 5, 29, 31], critical: false, value: ArraySlice(CertificateWriter.crlDistributionPoints(url))))
        }
        if let url = spec.caIssuersURL {
            try extensions.append(Certificate.Extension(
                AuthorityInformationAccess([.init(method: .issuingCA, location: .uniformResourceIdentifier(url))]), critical: false))
        }
        if !spec.subjectAltNames.isEmpty {
            try extensions.append(Certificate.Extension(SubjectAlternativeNames(spec.subjectAltNames.map(\.generalName)),
                                                        critical: spec.subject.isEmpty))
        }
        return try Certificate(
            version: .v3, serialNumber: spec.serial.x509, publicKey: spec.publicKey, notValidBefore: spec.notBefore,
            notValidAfter: spec.notAfter, issuer: issuer, subject: spec.subject, signatureAlgorithm: key.algorithm.signatureAlgorithm,
            extensions: extensions, issuerPrivateKey: try key.signingKey())
    }
}
