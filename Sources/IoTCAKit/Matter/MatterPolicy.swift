import Synchronization
import X509

/// The rules of Matter's attestation profile that policy decides before anything is signed:
/// a template's shape, the key, the issuer, and the vendor and product IDs a new certificate
/// carries. `MatterProfileCheck` then judges the signed DER as a commissioner would.
enum MatterPolicy {
    /// The store setting `init` writes for a Matter store.
    static let storeProfileSetting = "profile"

    /// Commissioners trust a PAA because the CSA's ledger (DCL) lists it; a next root made here
    /// would be a plain root no commissioner knows, and PAIs under it could claim any vendor.
    static func checkRootRotation(_ store: Store) throws {
        let paaRoot = try store.authorities().contains { authority in
            guard authority.kind == .root, let der = authority.certificateDER, let root = try? Certificate(derEncoded: der) else { return false }
            return (try? MatterIdentity(subject: root.subject))?.vendorID != nil
        }
        guard try store.setting(storeProfileSetting) == "matter" || paaRoot else { return }
        throw PolicyError.outsideMatterProfile(rule: "a PAA is not rotated: commissioners trust the PAAs the DCL lists; a new PAA is a new store, registered with the CSA")
    }

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
    /// signature is ecdsa-with-SHA256; a DAC under a PAI, a PAI under a PAA, each judged by the
    /// profile (a CA with the right path length is not enough: it must be a PAI or a PAA).
    static func check(key: KeyAlgorithm, issuer: Certificate?, role: MatterRole) throws(PolicyError) {
        guard key == .ecP256 else {
            throw .outsideMatterProfile(rule: "a \(role.title) certifies an EC P-256 key, not \(key.rawValue)")
        }
        guard let issuer else {
            guard role == .paa else { throw .outsideMatterProfile(rule: "only a PAA is self-signed") }
            return
        }
        let judged = JudgedIssuer(certificate: issuer, role: role)
        if acceptedIssuers.withLock({ $0.contains(judged) }) { return }
        switch role {
        case .paa: throw .outsideMatterProfile(rule: "a PAA is self-signed (create it as a root)")
        case .pai:
            guard issuer.subject == issuer.issuer else { throw .outsideMatterProfile(rule: "a PAI is certified by a PAA, a self-signed root") }
            do { _ = try MatterProfileCheck.check(issuer, as: .paa) } catch {
                throw .outsideMatterProfile(rule: "a PAI is certified by a PAA, and its CA is not one (\(rule(of: error)))")
            }
        case .dac:
            do { _ = try MatterProfileCheck.check(issuer, as: .pai) } catch {
                throw .outsideMatterProfile(rule: "a DAC is issued by a PAI, and its CA is not one (\(rule(of: error)))")
            }
        }
        acceptedIssuers.withLock { accepted in
            if accepted.count >= 64 { accepted.removeAll() }
            accepted.insert(judged)
        }
    }

    /// CAs already judged fit to sign `role`: a batch judges its PAI once, not once per DAC.
    private struct JudgedIssuer: Hashable, Sendable {
        let certificate: Certificate
        let role: MatterRole
    }

    private static let acceptedIssuers = Mutex<Set<JudgedIssuer>>([])

    private static func rule(of error: PolicyError) -> String {
        if case .outsideMatterProfile(let rule) = error { return rule }
        return error.description
    }

    /// A Matter CA (one whose subject carries a vendor ID) issues things DACs only and certifies
    /// PAIs only: a PAI that signed a device certificate whose name reads `Mvid:FFF1 Mpid:8001`
    /// would have made a DAC outside every check. (Its own OCSP responder, which carries no IDs,
    /// is certified apart from both.)
    static func checkServes(_ template: Template, issuer: Certificate?) throws(PolicyError) {
        guard template.matter == nil, let issuer, (try? MatterIdentity(subject: issuer.subject))?.vendorID != nil else { return }
        throw .outsideMatterProfile(rule: "a Matter CA signs only Matter certificates (matter-pai under a PAA, matter-dac under a PAI), not template \(template.name)")
    }

    /// The IDs for a new certificate: the attributes' (either case; written upper-case), a DAC's
    /// defaulting to its PAI's and a PAI's vendor to its PAA's, any difference from the issuer's
    /// refused.
    static func identity(role: MatterRole, attributes: [String: String], issuer: Certificate?) throws(PolicyError) -> MatterIdentity {
        // `PID` or `Vid` would otherwise be ignored, and the DAC silently take its PAI's.
        for key in attributes.keys where [vendorAttribute, productAttribute].contains(key.lowercased()) && key != key.lowercased() {
            throw .outsideMatterProfile(rule: "the IDs are the attributes vid and pid, in lower case (got \(PolicyError.quoted(key)))")
        }
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
