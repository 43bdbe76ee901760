import Foundation
import SwiftASN1
import X509

/// One CertReqMsg (CRMF, RFC 4211): what the client asks for and its proof of possession of
/// the key. As for a PKCS#10 request, only the key is taken from it; the template decides the
/// rest, and the subject and names are checked where they must match (key update).
struct CertRequestMessage: Sendable {
    let certReqId: Int
    /// DER of the CertRequest: what a signature proof of possession signs (4.1, no poposkInput).
    let certRequestDER: [UInt8]
    /// The template's subject (Name DER), if it names one.
    let subject: DistinguishedName?
    /// The template's SubjectPublicKeyInfo as a SEQUENCE (the template tags it [6] IMPLICIT).
    let publicKeyInfo: [UInt8]?
    let extensions: Certificate.Extensions?
    let proof: Proof
    /// The oldCertID control (id-regCtrl-oldCertID) of a key update: issuer Name DER and serial.
    let oldCertificate: (issuer: [UInt8], serial: [UInt8])?

    enum Proof: Sendable {
        case none
        case raVerified
        case signature(algorithm: ASN1ObjectIdentifier, signature: [UInt8])
        case other
    }

    static let oldCertIDOID: ASN1ObjectIdentifier = [1, 3, 6, 1, 5, 5, 7, 5, 1, 5]

    init(_ node: ASN1Node) throws {
        let parts = try ASN1Reading.children(of: node, expecting: .sequence)
        guard let request = parts.first else { throw CMPFailure(.badDataFormat, "an empty CertReqMsg") }
        certRequestDER = Array(request.encodedBytes)
        let fields = try ASN1Reading.children(of: request, expecting: .sequence)
        guard fields.count >= 2 else { throw CMPFailure(.badDataFormat, "a CertRequest has an id and a template") }
        certReqId = try Int(derEncoded: fields[0])
        guard certReqId >= 0 else { throw CMPFailure(.badRequest, "a certReqId is 0 or more") }
        guard case .constructed(let template) = fields[1].content, fields[1].identifier == .sequence else {
            throw CMPFailure(.badDataFormat, "the CertTemplate is not a SEQUENCE")
        }
        var subject: DistinguishedName?, publicKeyInfo: [UInt8]?, extensions: Certificate.Extensions?
        for field in template {
            switch ASN1Reading.contextTag(field) {
            case 5: subject = try DistinguishedName(derEncoded: try ASN1Reading.explicit(field))
            case 6:
                var spki = Array(field.encodedBytes)
                spki[0] = 0x30
                publicKeyInfo = spki
            case 9:
                guard case .constructed(let items) = field.content else { throw CMPFailure(.badDataFormat, "the extensions are not a SEQUENCE") }
                extensions = try Certificate.Extensions(items.map { try Certificate.Extension(derEncoded: $0) })
            default: break
            }
        }
        self.subject = subject
        self.publicKeyInfo = publicKeyInfo
        self.extensions = extensions
        var oldCertificate: (issuer: [UInt8], serial: [UInt8])?
        if fields.count > 2 {
            for control in try ASN1Reading.children(of: fields[2], expecting: .sequence) {
                let items = try ASN1Reading.children(of: control, expecting: .sequence)
                guard items.count == 2, try ASN1ObjectIdentifier(derEncoded: items[0]) == Self.oldCertIDOID else { continue }
                // CertId ::= SEQUENCE { issuer GeneralName, serialNumber INTEGER }
                let id = try ASN1Reading.children(of: items[1], expecting: .sequence)
                guard id.count == 2, case .primitive(let serial) = id[1].content else { throw CMPFailure(.badDataFormat, "a malformed oldCertID") }
                oldCertificate = (Array(id[0].encodedBytes), Array(serial))
            }
        }
        self.oldCertificate = oldCertificate
        if parts.count > 1, let tag = ASN1Reading.contextTag(parts[1]) {
            switch tag {
            case 0: proof = .raVerified
            case 1:
                guard case .constructed(let items) = parts[1].content else { throw CMPFailure(.badDataFormat, "a malformed POPOSigningKey") }
                let signing = Array(items)
                guard signing.count == 2, signing[0].identifier == .sequence else {
                    throw CMPFailure(.badPOP, "a signature proof of possession with poposkInput is for requests without a subject and key")
                }
                let (algorithm, _) = try ASN1Reading.oid(signing[0])
                proof = .signature(algorithm: algorithm, signature: Array(try ASN1BitString(derEncoded: signing[1]).bytes))
            default: proof = .other
            }
        } else {
            proof = .none
        }
    }

    /// The requested key, once its holder has proven it by signing this request with it.
    /// - Throws: `CMPFailure` (badCertTemplate without a key, badPOP, badAlg).
    func provenKey() throws(CMPFailure) -> Certificate.PublicKey {
        guard let publicKeyInfo else { throw CMPFailure(.badCertTemplate, "the request has no public key: keys are made on the device, never here") }
        let key: Certificate.PublicKey
        do { key = try Certificate.PublicKey(derEncoded: publicKeyInfo) } catch {
            throw CMPFailure(.badCertTemplate, "unsupported public key (accepted: \(KeyAlgorithm.namesForHelp))")
        }
        guard KeyAlgorithm(publicKey: key) != nil else {
            throw CMPFailure(.badCertTemplate, "unsupported public key (accepted: \(KeyAlgorithm.namesForHelp))")
        }
        guard case .signature(let oid, let signature) = proof else {
            throw CMPFailure(.badPOP, "the request proves its key only by a signature (popo 1)")
        }
        guard let algorithm = CMPAlgorithms.signature(oid) else { throw CMPFailure(.badAlg, "unsupported signature algorithm \(oid)") }
        guard key.isValidSignature(signature, for: certRequestDER, signatureAlgorithm: algorithm) else {
            throw CMPFailure(.badPOP, "the proof of possession does not verify with the requested key")
        }
        return key
    }

    /// The subject alternative names the request asks for, if any.
    var subjectAltNames: SubjectAlternativeNames? {
        (try? extensions?.subjectAlternativeNames) ?? nil
    }
}
