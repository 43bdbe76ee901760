import Crypto
import Foundation
import SwiftASN1
import X509

/// Writes a certificate's DER straight from its spec (RFC 5280 4.1), byte for byte what
/// swift-certificates' `Certificate(...)` writes for the same input (a test holds both to
/// that), without building its tree of values: the tree re-exported the public key twice per
/// certificate and cost more than the signature.
enum CertificateWriter {
    /// What stays the same for every certificate a CA signs.
    struct Issuer: Sendable {
        /// The issuer's subject Name, DER.
        let name: [UInt8]
        let keyIdentifier: [UInt8]
        let signatureAlgorithm: KeyAlgorithm

        init(name: DistinguishedName, keyIdentifier: [UInt8], signatureAlgorithm: KeyAlgorithm) throws {
            var serializer = DER.Serializer()
            try serializer.serialize(name)
            self.name = serializer.serializedBytes
            self.keyIdentifier = keyIdentifier
            self.signatureAlgorithm = signatureAlgorithm
        }
    }

    /// The TBSCertificate DER for `spec`, issued by `issuer`.
    static func tbsCertificate(_ spec: CertificateSpec, issuer: Issuer) throws -> [UInt8] {
        let spki = try spec.subjectPublicKeyInfoDER ?? serialized(spec.publicKey)
        guard let keyBits = subjectPublicKeyBits(spki) else { throw SigningError.lintFailed("the subject public key is not valid DER") }
        var writer = DERWriter(capacity: 512 + spki.count)
        try writer.element(0x30) { tbs in
            tbs.append([0xA0, 0x03, 0x02, 0x01, 0x02])  // [0] version v3
            tbs.unsignedInteger(spec.serial.bytes)
            tbs.append(issuer.signatureAlgorithm.signatureAlgorithmIdentifierDER)
            tbs.append(issuer.name)
            tbs.element(0x30) { validity in
                validity.time(Int64(spec.notBefore.timeIntervalSince1970.rounded()))
                validity.time(Int64(spec.notAfter.timeIntervalSince1970.rounded()))
            }
            tbs.append(try serialized(spec.subject))
            tbs.append(spki)
            try tbs.element(0xA3) { explicit in
                try explicit.element(0x30) { extensions in
                    try appendExtensions(spec, keyBits: keyBits, issuer: issuer, to: &extensions)
                }
            }
        }
        return writer.bytes
    }

    /// Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue BIT STRING }
    static func certificate(tbs: [UInt8], algorithm: KeyAlgorithm, signature: [UInt8]) -> [UInt8] {
        var writer = DERWriter(capacity: tbs.count + signature.count + 32)
        writer.element(0x30) { certificate in
            certificate.append(tbs)
            certificate.append(algorithm.signatureAlgorithmIdentifierDER)
            certificate.header(0x03, count: signature.count + 1)
            certificate.append([0x00])
            certificate.append(signature)
        }
        return writer.bytes
    }

    /// The extensions in the order iotca has always written them: basicConstraints,
    /// keyUsage, extKeyUsage, subjectKeyIdentifier, authorityKeyIdentifier,
    /// cRLDistributionPoints, authorityInfoAccess, subjectAltName.
    private static func appendExtensions(_ spec: CertificateSpec, keyBits: ArraySlice<UInt8>, issuer: Issuer,
                                         to writer: inout DERWriter) throws {
        try append(Certificate.Extension(
            spec.isCA ? .isCertificateAuthority(maxPathLength: spec.pathLength) : .notCertificateAuthority, critical: true), to: &writer)
        try append(Certificate.Extension(spec.keyUsage, critical: true), to: &writer)
        if !spec.extendedKeyUsage.isEmpty {
            try append(Certificate.Extension(ExtendedKeyUsage(spec.extendedKeyUsage), critical: false), to: &writer)
        }
        // RFC 5280 4.2.1.2 method (1): SHA-1 of the subjectPublicKey bits.
        let keyIdentifier = Array(Insecure.SHA1.hash(data: keyBits))
        extensionEnvelope(oid: [0x55, 0x1D, 0x0E], critical: false, to: &writer) { value in
            value.header(0x04, count: keyIdentifier.count)
            value.append(keyIdentifier)
        }
        extensionEnvelope(oid: [0x55, 0x1D, 0x23], critical: false, to: &writer) { value in
            value.element(0x30) { $0.header(0x80, count: issuer.keyIdentifier.count); $0.append(issuer.keyIdentifier) }
        }
        if let url = spec.crlDistributionPoint {
            extensionEnvelope(oid: [0x55, 0x1D, 0x1F], critical: false, to: &writer) { $0.append(crlDistributionPoints(url)) }
        }
        var access: [AuthorityInformationAccess.AccessDescription] = []
        if let url = spec.ocspURL { access.append(.init(method: .ocspServer, location: .uniformResourceIdentifier(url))) }
        if let url = spec.caIssuersURL { access.append(.init(method: .issuingCA, location: .uniformResourceIdentifier(url))) }
        if !access.isEmpty {
            try append(Certificate.Extension(AuthorityInformationAccess(access), critical: false), to: &writer)
        }
        if spec.ocspNoCheck {
            // id-pkix-ocsp-nocheck 1.3.6.1.5.5.7.48.1.5, value NULL.
            extensionEnvelope(oid: [0x2B, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x05], critical: false, to: &writer) { $0.append([0x05, 0x00]) }
        }
        if !spec.subjectAltNames.isEmpty {
            // RFC 5280 4.2.1.6: critical when the subject is empty.
            try append(Certificate.Extension(SubjectAlternativeNames(spec.subjectAltNames.map(\.generalName)),
                                             critical: spec.subject.isEmpty), to: &writer)
        }
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

    /// Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }
    private static func extensionEnvelope(oid: [UInt8], critical: Bool, to writer: inout DERWriter,
                                          _ value: (inout DERWriter) -> Void) {
        writer.element(0x30) { element in
            element.header(0x06, count: oid.count)
            element.append(oid)
            if critical { element.append([0x01, 0x01, 0xFF]) }
            element.element(0x04, value)
        }
    }

    private static func append(_ value: Certificate.Extension, to writer: inout DERWriter) throws {
        writer.append(try serialized(value))
    }

    static func serialized(_ value: some DERSerializable) throws -> [UInt8] {
        var serializer = DER.Serializer()
        try serializer.serialize(value)
        return serializer.serializedBytes
    }

    /// The subjectPublicKey BIT STRING's key bytes (without the unused-bits octet).
    static func subjectPublicKeyBits(_ spki: [UInt8]) -> ArraySlice<UInt8>? {
        let reader = DERReader(bytes: spki)
        guard let info = reader.element(at: 0, limit: spki.count), info.tag == 0x30,
              let algorithm = reader.firstChild(of: info), algorithm.tag == 0x30,
              let bits = reader.next(after: algorithm, in: info), bits.tag == 0x03, bits.end > bits.contents else { return nil }
        return spki[(bits.contents + 1)..<bits.end]
    }
}
