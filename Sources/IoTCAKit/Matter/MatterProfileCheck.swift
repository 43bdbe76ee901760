import Crypto
import Foundation
import SwiftASN1
import X509

/// The checks a Matter commissioner makes of an attestation certificate, on its DER, as the
/// SDK's verifier makes them (`VerifyAttestationCertificateFormat`, `IsCertificateValidAtIssuance`,
/// and the VID/PID rules of Matter §6.2.2). iotca runs it on every PAA, PAI and DAC it signs
/// before the certificate is recorded, and the tests run it on the SDK's own test vectors.
public enum MatterProfileCheck {
    /// The SDK's `kMaxDERCertLength`.
    public static let maximumDERLength = 600

    /// What a single certificate must be for `role`; returns its vendor and product IDs.
    /// - Throws: `PolicyError.outsideMatterProfile` naming the first rule broken.
    @discardableResult
    public static func check(_ der: [UInt8], as role: MatterRole) throws(PolicyError) -> MatterIdentity {
        // Read before the full parse, which refuses unknown curves and algorithms without saying which rule they break.
        try checkEncoding(der, as: role)
        let certificate: Certificate
        do { certificate = try Certificate(derEncoded: der) } catch {
            throw .outsideMatterProfile(rule: "\(role.title): the DER does not parse as a certificate")
        }
        return try check(certificate, as: role)
    }

    /// The same for a certificate already parsed from `der` (the Signer's release check).
    @discardableResult
    static func check(_ der: [UInt8], parsed certificate: Certificate, as role: MatterRole) throws(PolicyError) -> MatterIdentity {
        try checkEncoding(der, as: role)
        return try check(certificate, as: role)
    }

    /// What only the DER shows: its size, and the shape the SDK checks first.
    private static func checkEncoding(_ der: [UInt8], as role: MatterRole) throws(PolicyError) {
        guard der.count <= maximumDERLength else {
            throw .outsideMatterProfile(rule: "\(role.title): the certificate is \(der.count) bytes of DER, at most \(maximumDERLength) are allowed (shorten the names, or leave out CRL and OCSP URLs)")
        }
        if let rule = shapeViolation(der) { throw .outsideMatterProfile(rule: "\(role.title): \(rule)") }
    }

    /// The rules a parsed certificate shows (all but the DER's size and exact encoding): how a CA
    /// is judged as the issuer of a new PAI or DAC.
    static func check(_ certificate: Certificate, as role: MatterRole) throws(PolicyError) -> MatterIdentity {
        func broken(_ rule: String) -> PolicyError { .outsideMatterProfile(rule: "\(role.title): \(rule)") }
        guard certificate.version == .v3 else { throw broken("the certificate must be X.509 version 3") }
        guard certificate.signatureAlgorithm == .ecdsaWithSHA256 else { throw broken("the signature must be ecdsa-with-SHA256") }
        guard P256.Signing.PublicKey(certificate.publicKey) != nil else { throw broken("the key must be an EC P-256 key") }
        do {
            try checkExtensions(certificate.extensions, role: role, broken: broken)
        } catch let error as PolicyError {
            throw error
        } catch {
            throw broken("an extension does not parse")
        }
        let identity: MatterIdentity
        do { identity = try MatterIdentity(subject: certificate.subject) } catch { throw broken(error.rule) }
        switch role {
        case .paa:
            guard identity.productID == nil else { throw broken("a PAA carries no product ID") }
        case .pai:
            guard identity.vendorID != nil else { throw broken("a PAI must carry a vendor ID") }
        case .dac:
            guard identity.vendorID != nil, identity.productID != nil else { throw broken("a DAC must carry a vendor ID and a product ID") }
        }
        return identity
    }

    private static func checkExtensions(_ extensions: Certificate.Extensions, role: MatterRole,
                                        broken: (String) -> PolicyError) throws {
        guard let constraints = extensions[oid: .X509ExtensionID.basicConstraints], constraints.critical else {
            throw broken("basicConstraints must be present and critical")
        }
        guard let (isCA, pathLength) = basicConstraints(Array(constraints.value)) else { throw broken("basicConstraints does not parse") }
        switch (role, isCA, pathLength) {
        case (.paa, true, nil), (.paa, true, 1): break
        case (.pai, true, 0): break
        case (.dac, false, nil): break
        case (.dac, false, _): throw broken("basicConstraints must have no path length")
        case (.paa, _, _): throw broken("basicConstraints must be cA with no path length or path length 1")
        case (.pai, _, _): throw broken("basicConstraints must be cA with path length 0")
        case (.dac, _, _): throw broken("basicConstraints must say not a CA")
        }
        guard let usageExtension = extensions[oid: .X509ExtensionID.keyUsage], usageExtension.critical else {
            throw broken("keyUsage must be present and critical")
        }
        let usage = try KeyUsage(usageExtension)
        if role.isCA {
            var others = usage
            others.keyCertSign = false
            others.cRLSign = false
            others.digitalSignature = false
            guard usage.keyCertSign, usage.cRLSign, others == KeyUsage() else {
                throw broken("keyUsage must be keyCertSign and cRLSign (digitalSignature allowed), nothing else")
            }
        } else {
            guard usage == KeyUsage(digitalSignature: true) else { throw broken("keyUsage must be digitalSignature alone") }
        }
        guard let subjectKeyID = extensions[oid: .X509ExtensionID.subjectKeyIdentifier], !subjectKeyID.critical,
              try SubjectKeyIdentifier(subjectKeyID).keyIdentifier.count == 20 else {
            throw broken("a subjectKeyIdentifier of 20 bytes, not critical, is required")
        }
        if let authorityKeyID = extensions[oid: .X509ExtensionID.authorityKeyIdentifier] {
            guard !authorityKeyID.critical, try AuthorityKeyIdentifier(authorityKeyID).keyIdentifier?.count == 20 else {
                throw broken("the authorityKeyIdentifier must hold a key identifier of 20 bytes and not be critical")
            }
        } else if role != .paa {
            throw broken("an authorityKeyIdentifier is required")
        }
    }

    /// The outer shape the SDK checks first: version 3, ecdsa-with-SHA256, an EC P-256 key.
    static func shapeViolation(_ der: [UInt8]) -> String? {
        let reader = DERReader(bytes: der)
        guard let certificate = reader.element(at: 0, limit: der.count), certificate.tag == 0x30, certificate.end == der.count,
              let tbs = reader.firstChild(of: certificate), tbs.tag == 0x30,
              let algorithm = reader.next(after: tbs, in: certificate), var field = reader.firstChild(of: tbs) else {
            return "the DER does not parse as a certificate"
        }
        guard field.tag == 0xA0, Array(der[field.contents..<field.end]) == [0x02, 0x01, 0x02] else {
            return "the certificate must be X.509 version 3"
        }
        let ecdsaWithSHA256: [UInt8] = [0x30, 0x0A, 0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x03, 0x02]
        guard Array(der[algorithm.start..<algorithm.end]) == ecdsaWithSHA256 else { return "the signature must be ecdsa-with-SHA256" }
        // version, serial, signature, issuer, validity, subject, then subjectPublicKeyInfo
        for _ in 0..<6 {
            guard let next = reader.next(after: field, in: tbs) else { return "the DER does not parse as a certificate" }
            field = next
        }
        let p256: [UInt8] = [0x30, 0x13, 0x06, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01, 0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07]
        guard field.tag == 0x30, let keyAlgorithm = reader.firstChild(of: field),
              Array(der[keyAlgorithm.start..<keyAlgorithm.end]) == p256,
              let key = reader.next(after: keyAlgorithm, in: field), key.end - key.contents == 66 else {
            return "the key must be an EC P-256 key, its point uncompressed"
        }
        return nil
    }

    /// BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLenConstraint INTEGER OPTIONAL },
    /// read as the SDK reads it: a path length is seen even where RFC 5280 forbids one.
    static func basicConstraints(_ value: [UInt8]) -> (isCA: Bool, pathLength: Int?)? {
        let reader = DERReader(bytes: value)
        guard let sequence = reader.element(at: 0, limit: value.count), sequence.tag == 0x30, sequence.end == value.count else { return nil }
        var isCA = false, pathLength: Int?
        var field = reader.firstChild(of: sequence)
        if let flag = field, flag.tag == 0x01 {
            guard flag.end - flag.contents == 1 else { return nil }
            isCA = value[flag.contents] != 0
            field = reader.next(after: flag, in: sequence)
        }
        if let length = field {
            guard length.tag == 0x02, (1...4).contains(length.end - length.contents), value[length.contents] & 0x80 == 0 else { return nil }
            pathLength = value[length.contents..<length.end].reduce(0) { $0 << 8 | Int($1) }
            field = reader.next(after: length, in: sequence)
        }
        return field == nil ? (isCA, pathLength) : nil
    }

    /// A DAC, its PAI and the PAA as a commissioner judges them together: each certificate's
    /// profile, the IDs matching down the chain, and each notBefore inside its issuer's
    /// validity (the chain is verified at the DAC's notBefore; `openssl verify -attime` that
    /// time gives the signature verdict the SDK's OpenSSL backend gives).
    /// `productID` is the product the device says it is (its Basic Information cluster's), when known.
    /// - Throws: `PolicyError.outsideMatterProfile` naming the rule broken.
    public static func checkChain(dac: [UInt8], pai: [UInt8], paa: [UInt8], productID: MatterID? = nil) throws(PolicyError) {
        let dacIDs = try check(dac, as: .dac), paiIDs = try check(pai, as: .pai), paaIDs = try check(paa, as: .paa)
        if let productID, dacIDs.productID != productID {
            throw .outsideMatterProfile(rule: "the DAC's product ID must be the device's, \(productID)")
        }
        guard dacIDs.vendorID == paiIDs.vendorID else { throw .outsideMatterProfile(rule: "the DAC's vendor ID must equal its PAI's") }
        if let product = paiIDs.productID, dacIDs.productID != product {
            throw .outsideMatterProfile(rule: "the DAC's product ID must equal its PAI's, which names one")
        }
        if let vendor = paaIDs.vendorID, paiIDs.vendorID != vendor {
            throw .outsideMatterProfile(rule: "the PAI's vendor ID must equal its PAA's, which names one")
        }
        guard let dacCertificate = try? Certificate(derEncoded: dac), let paiCertificate = try? Certificate(derEncoded: pai),
              let paaCertificate = try? Certificate(derEncoded: paa) else { throw .outsideMatterProfile(rule: "a certificate does not parse") }
        let links = [(dacCertificate, paiCertificate, "DAC", "PAI"), (paiCertificate, paaCertificate, "PAI", "PAA")]
        for (child, issuer, childName, issuerName) in links {
            guard child.notValidBefore >= issuer.notValidBefore, child.notValidBefore <= issuer.notValidAfter else {
                throw .outsideMatterProfile(rule: "the \(childName)'s notBefore must lie within its \(issuerName)'s validity")
            }
            guard child.issuer == issuer.subject, issuer.publicKey.isValidSignature(child.signature, for: child) else {
                throw .outsideMatterProfile(rule: "the \(childName) is not signed by the \(issuerName)")
            }
        }
    }
}
