import Crypto
import Foundation
import SwiftASN1
import X509

/// The key that signs the CA's CMP answers to signature-protected requests (RFC 9483 3.1: the
/// PKI management entity's CMP protection certificate): like the OCSP signer, a key made in
/// memory when first needed and certified by the issuing CA for a few days, with keyUsage
/// digitalSignature (what CMP clients check) and extendedKeyUsage id-kp-cmcCA (RFC 6402).
/// The CA's own key signs only that certificate; the signer's key never touches a disk.
struct CMPSigner: Sendable {
    let certificateDER: [UInt8]
    /// The signer's subject, the answers' sender.
    let subjectDER: [UInt8]
    /// Its subjectKeyIdentifier, the answers' senderKID.
    let keyIdentifier: [UInt8]?
    /// The issuing CA's chain up to the root, after the signer in extraCerts (RFC 9483 3.3).
    let chain: [[UInt8]]
    let notAfter: Date
    let algorithm: KeyAlgorithm
    private let signature: @Sendable ([UInt8]) throws -> [UInt8]

    static let validity: TimeInterval = 3 * 86_400
    static let renewWhenLeft: TimeInterval = 86_400
    static let cmcCA = "1.3.6.1.5.5.7.3.27"

    static func issue(for authority: Authority, with signer: Signer, chain: [[UInt8]], store: Store, now: Date) throws -> CMPSigner {
        let name = "\(authority.name) CMP responder"
        let template = Template(
            name: "cmp-signer", description: nil, keyType: authority.keyAlgorithm, allowedKeyTypes: nil,
            validity: "\(Int(validity / 3_600))h", subject: .init(commonName: name), subjectAltNames: nil,
            keyUsage: ["digitalSignature"], extendedKeyUsage: [cmcCA], ca: false, pathLength: nil)
        let key = try KeyGenerator().generate(authority.keyAlgorithm)
        let policy = IssuancePolicy(template: template, thing: name, organization: try store.organization())
        var spec = try policy.decide(publicKey: key.publicKey, issuerName: authority.name, issuer: signer.certificate, now: now)
        spec.subjectPublicKeyInfoDER = key.subjectPublicKeyInfoDER
        let issued = try signer.sign(spec)
        let entry = CertificateEntry(issued: issued, authority: authority.name, thing: nil, subjectAuthority: nil,
                                     template: template.name, keyAlgorithm: key.algorithm, now: now)
        try store.recordCertificate(entry, action: "cmp.signer", subject: authority.name)
        let certificate = try Certificate(derEncoded: issued.der)
        let signingKey = try key.signingKey()
        let algorithm = key.algorithm
        return CMPSigner(certificateDER: issued.der, subjectDER: try DERWriter.encoded(certificate.subject),
                         keyIdentifier: (try? certificate.extensions.subjectKeyIdentifier).flatMap { $0.map { Array($0.keyIdentifier) } },
                         chain: chain, notAfter: issued.notValidAfter, algorithm: algorithm) { bytes in
            try signingKey.sign(bytes: bytes, signatureAlgorithm: algorithm.signatureAlgorithm).rawRepresentation
        }
    }

    func isDue(at now: Date) -> Bool { notAfter.timeIntervalSince(now) < Self.renewWhenLeft }

    func sign(_ bytes: [UInt8]) throws -> [UInt8] { try signature(bytes) }
}

extension DERWriter {
    /// The DER of a swift-certificates or SwiftASN1 value.
    static func encoded(_ value: some DERSerializable) throws -> [UInt8] {
        var serializer = DER.Serializer()
        try serializer.serialize(value)
        return serializer.serializedBytes
    }
}
