import X509

/// The rules of Matter's attestation profile that policy decides before anything is signed:
/// a template's shape, the key, the issuer, and the vendor and product IDs a new certificate
/// carries. `MatterProfileCheck` then judges the signed DER as a commissioner would.
enum MatterPolicy {
    /// Attributes that carry the IDs (`--vid`, `--pid`, batch columns `vid` and `pid`).
    static let vendorAttribute = "vid", productAttribute = "pid"

    static func validate(_ template: Template, role: MatterRole, source: String) throws(PolicyError) {
        func fail(_ field: String, _ reason: String) -> PolicyError {
            .invalidTemplate(source: source, field: field, reason: "a Matter \(role.title) \(reason)")
        }
        guard template.keyType == .ecP256 else { throw fail("keyType", "has an EC P-256 key (ec-p256)") }
        if let allowed = template.allowedKeyTypes, allowed != [.ecP256] {
            throw fail("allowedKeyTypes", "accepts only EC P-256 keys ([\"ec-p256\"])")
        }
        guard template.ca == role.isCA else { throw fail("ca", role.isCA ? "is a CA (\"ca\": true)" : "is not a CA (\"ca\": false)") }
        let usages = Set(template.keyUsage)
        switch role {
        case .paa:
            guard template.pathLength == nil || template.pathLength == 1 else { throw fail("pathLength", "has no path length, or 1") }
        case .pai:
            guard template.pathLength == 0 else { throw fail("pathLength", "has path length 0") }
        case .dac:
            guard usages == ["digitalSignature"] else { throw fail("keyUsage", "has keyUsage digitalSignature alone") }
        }
        if role.isCA {
            guard usages.isSuperset(of: ["keyCertSign", "cRLSign"]),
                  usages.isSubset(of: ["keyCertSign", "cRLSign", "digitalSignature"]) else {
                throw fail("keyUsage", "has keyUsage keyCertSign and cRLSign (digitalSignature allowed) and nothing else")
            }
        }
    }

    /// The key a Matter certificate certifies, and the CA that signs it: P-256 both, so the
    /// signature is ecdsa-with-SHA256; a DAC under a PAI, a PAI under a PAA.
    static func check(key: KeyAlgorithm, issuer: Certificate?, role: MatterRole) throws(PolicyError) {
        guard key == .ecP256 else {
            throw .outsideMatterProfile(rule: "a \(role.title) certifies an EC P-256 key, not \(key.rawValue)")
        }
        guard let issuer else {
            guard role == .paa else { throw .outsideMatterProfile(rule: "only a PAA is self-signed") }
            return
        }
        guard KeyAlgorithm(publicKey: issuer.publicKey) == .ecP256 else {
            throw .outsideMatterProfile(rule: "a \(role.title) is signed with ecdsa-with-SHA256, so its CA must have an EC P-256 key")
        }
        guard case .isCertificateAuthority(let pathLength) = (try? issuer.extensions.basicConstraints) ?? .notCertificateAuthority else {
            throw .outsideMatterProfile(rule: "the signing certificate is not a CA")
        }
        switch role {
        case .paa: throw .outsideMatterProfile(rule: "a PAA is self-signed (create it as a root)")
        case .pai:
            guard pathLength != 0 else { throw .outsideMatterProfile(rule: "a PAI is certified by a PAA, not by another PAI") }
        case .dac:
            guard pathLength == 0 else { throw .outsideMatterProfile(rule: "a DAC is issued by a PAI (a CA with path length 0), not by a PAA") }
        }
    }

    /// The IDs for a new certificate: the attributes' (either case; written upper-case), a DAC's
    /// defaulting to its PAI's and a PAI's vendor to its PAA's, any difference from the issuer's
    /// refused.
    static func identity(role: MatterRole, attributes: [String: String], issuer: Certificate?) throws(PolicyError) -> MatterIdentity {
        let vendor = try attributes[vendorAttribute].map { text throws(PolicyError) in try MatterID(text, kind: "vendor ID") }
        let product = try attributes[productAttribute].map { text throws(PolicyError) in try MatterID(text, kind: "product ID") }
        var issuerIDs = MatterIdentity()
        if let issuer {
            do {
                issuerIDs = try MatterIdentity(subject: issuer.subject)
            } catch {
                throw .outsideMatterProfile(rule: "the signing CA's subject: \(error.rule)")
            }
        }
        var identity = MatterIdentity(vendorID: vendor ?? issuerIDs.vendorID, productID: product)
        if let expected = issuerIDs.vendorID, let vendor, vendor != expected {
            throw .outsideMatterProfile(rule: "vendor ID \(vendor) differs from \(expected), its CA's")
        }
        switch role {
        case .paa:
            guard product == nil else { throw .outsideMatterProfile(rule: "a PAA carries no product ID") }
        case .pai:
            guard identity.vendorID != nil else { throw .outsideMatterProfile(rule: "a PAI carries a vendor ID: give one") }
        case .dac:
            guard identity.vendorID != nil else {
                throw .outsideMatterProfile(rule: "a DAC is issued by a PAI, whose subject carries a vendor ID; this CA's has none")
            }
            if let expected = issuerIDs.productID {
                if let product, product != expected {
                    throw .outsideMatterProfile(rule: "product ID \(product) differs from \(expected), the one its PAI is limited to")
                }
                identity.productID = expected
            }
            guard identity.productID != nil else { throw .outsideMatterProfile(rule: "a DAC carries a product ID: give one (its PAI names none)") }
        }
        return identity
    }
}
