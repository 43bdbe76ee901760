import Foundation
import X509

/// Issues certificates to things: policy decides, the CA's signer signs, the store records,
/// and only then is the bundle written. One Provisioner serves a whole process, keeping the CA
/// keys, chains and the key generator warm.
public final class Provisioner {
    public let keyring: Keyring
    public var store: Store { keyring.store }
    public let generator = KeyGenerator()
    private let catalog: TemplateCatalog
    var organization: String?
    private var chains: [String: CertificateChain] = [:]
    /// Templates by the name or path asked for: read and validated once per version of the
    /// store's templates (`Store.templatesVersion`).
    private var templates: [String: Template] = [:]
    private var templatesVersion: TemplatesVersion?

    public init(keyring: Keyring) {
        self.keyring = keyring
        self.catalog = TemplateCatalog(store: keyring.store)
    }

    /// A checked request, ready for a key: everything that can be refused is refused here,
    /// before any key is generated or anything signed.
    /// A class, not a struct: a batch moves ten thousand plans through arrays, results and
    /// closures, and copying the fields (template, signer, chain) cost more than planning.
    public final class Plan: Sendable {
        public let request: IssueRequest
        public let template: Template
        public let policy: IssuancePolicy
        public let profile: IssuancePolicy.Profile
        public let signer: Signer
        public let authority: Authority
        public let chain: CertificateChain
        /// The key from the CSR; nil when the key is to be generated.
        public let requestKey: Certificate.PublicKey?
        /// The CSR's SubjectPublicKeyInfo when it is already in the form the certificate
        /// carries (`CanonicalSPKI`).
        let requestKeySPKI: [UInt8]?

        init(request: IssueRequest, template: Template, policy: IssuancePolicy, profile: IssuancePolicy.Profile, signer: Signer,
             authority: Authority, chain: CertificateChain, requestKey: Certificate.PublicKey?, requestKeySPKI: [UInt8]? = nil) {
            self.request = request
            self.template = template
            self.policy = policy
            self.profile = profile
            self.signer = signer
            self.authority = authority
            self.chain = chain
            self.requestKey = requestKey
            self.requestKeySPKI = requestKeySPKI
        }
    }

    public func plan(_ request: IssueRequest, bundleParent: URL?, format: BundleFormat = .dir) throws -> Plan {
        let restricted = !request.caller.isOperator
        let facts = try store.issuanceFacts(authority: request.authority, thing: request.thing, history: restricted,
                                            epoch: request.factsEpoch)
        let (authority, active) = (facts.authority, facts.active)
        // Only the operator at the CA host names a template by path: the service's callers name
        // templates, and never learn whether a server path exists.
        if request.caller.role != .local && !TemplateCatalog.isName(request.template) {
            throw PolicyError.templateNotFound(request.template)
        }
        if facts.templatesVersion != templatesVersion {
            templates.removeAll()
            templatesVersion = facts.templatesVersion
        }
        let template = try template(request.template)
        // Who asks is checked before the CA key is touched: a station never learns more than
        // its refusal.
        try request.caller.authorizeIssuance(template: template.name, thing: request.thing, authority: authority.name,
                                             history: facts.history)
        let signer = try keyring.signer(for: authority)
        if organization == nil { organization = try store.organization() }
        let plan = try Self.plan(request, template: template, signer: signer, authority: authority,
                                 chain: try chain(of: authority), organization: organization ?? "iotca", format: format)
        try request.caller.authorizeNames(template: template.name, thing: request.thing, authority: authority.name,
                                          names: plan.profile.subjectAltNames, fixed: plan.profile.thingNames)
        // Facts kept from an earlier read do not say (nil): the record refuses a conflict then.
        if !request.renew, let active, !active.isEmpty { throw IssuanceConflict(thing: request.thing, activeSerials: active.map(\.hex)) }
        if let bundleParent, let location = Bundle.location(of: request.thing, format: format, in: bundleParent),
           FileManager.default.fileExists(atPath: location.path) {
            guard request.renew || request.force else { throw OutputError.exists(path: location.path) }
            // Refused before anything is recorded: only a bundle of this thing is ever replaced.
            if format.isFolder && !Bundle.isBundle(of: request.thing, at: location.path) {
                throw OutputError.writeFailed(path: location.path, detail: "it exists and is not a bundle of \(request.thing) (no manifest.json naming it): move it away")
            }
        }
        return plan
    }

    /// The checks and decisions that need no store access, shared by `issue` and `batch`
    /// (a batch resolves the CA, chain and conflicts once for all its rows).
    static func plan(_ request: IssueRequest, template: Template, signer: Signer, authority: Authority, chain: CertificateChain,
              organization: String, format: BundleFormat) throws -> Plan {
        try ThingName.validate(request.thing)
        for (key, value) in request.attributes { try ThingAttributes.validate(key: key, value: value) }
        guard !template.ca else {
            throw PolicyError.invalidTemplate(source: "template \(template.name)", field: "ca",
                                              reason: "a CA template cannot issue to a thing: things get end-entity certificates, CAs are created as CAs")
        }
        if authority.kind == .root {
            throw PolicyError.invalidValue("CA \(authority.name)", reason: "a root CA signs CA certificates, CRLs and OCSP responders only, never a thing's certificate: issue from a subordinate CA")
        }
        try ServiceHierarchy.check(template: template.name, authority: authority)
        try MatterPolicy.checkServes(template, issuer: signer.certificate)
        if let rules = template.nameRules {
            for name in request.subjectAltNames where !rules.contains(where: { $0.allows(name) }) {
                throw PolicyError.invalidSubjectAltName(name.description, reason: "template \(template.name) allows only \(rules.map(\.description).joined(separator: ", ")) beyond its own names")
            }
        }
        if format == .matter && template.matter != .dac {
            throw PolicyError.invalidValue("format matter", reason: "it holds a Matter DAC and its chain: issue with a matter-dac template")
        }
        try CertificationDeclaration.check(request.certificationDeclaration, format: format)
        if format == .p12 && (request.csr != nil || request.provenKey != nil) {
            throw PolicyError.invalidValue("format p12", reason: "a PKCS#12 bundle holds the private key, which stays on the device that sent a CSR")
        }
        let fromRequest = try request.csr.map { bytes throws(PolicyError) in try CSRCheck.requestKey(fromRequest: bytes) }
        let requestKey = fromRequest?.publicKey ?? request.provenKey
        let policy = IssuancePolicy(template: template, thing: request.thing, organization: organization,
                                    attributes: request.attributes, extraSubjectAltNames: request.subjectAltNames,
                                    validity: request.validity)
        let profile = try policy.profile(issuerName: authority.name, issuer: signer.certificate)
        if let asked = request.validity, let limit = profile.templateValidity, asked.seconds > limit.seconds {
            throw PolicyError.invalidValue("validity \(asked)", reason: "longer than template \(template.name)'s \(template.validity): ask for that or less")
        }
        return Plan(request: request, template: template, policy: policy, profile: profile,
                    signer: signer, authority: authority, chain: chain, requestKey: requestKey,
                    requestKeySPKI: fromRequest?.subjectPublicKeyInfoDER)
    }

    /// The key (generated unless the request brought one) and the signed certificate for it.
    static func keyAndCertificate(_ plan: Plan, generator: KeyGenerator, now: Date, key chosen: PrivateKeyMaterial? = nil) throws
        -> (IssuedCertificate, PrivateKeyMaterial?, KeyAlgorithm) {
        let key = plan.requestKey == nil ? try chosen ?? generator.generate(plan.template.keyType) : nil
        guard let publicKey = plan.requestKey ?? key?.publicKey, let algorithm = KeyAlgorithm(publicKey: publicKey) else {
            throw PolicyError.invalidCSR(reason: "unsupported public key")
        }
        return (try sign(plan, publicKey: publicKey, subjectPublicKeyInfo: key?.subjectPublicKeyInfoDER ?? plan.requestKeySPKI, now: now),
                key, algorithm)
    }

    public static func sign(_ plan: Plan, publicKey: Certificate.PublicKey, subjectPublicKeyInfo: [UInt8]? = nil,
                            now: Date) throws -> IssuedCertificate {
        var spec = try plan.policy.decide(publicKey: publicKey, issuerName: plan.signer.authorityName,
                                          issuer: plan.signer.certificate, now: now, profile: plan.profile)
        spec.subjectPublicKeyInfoDER = subjectPublicKeyInfo
        spec.crlDistributionPoint = plan.authority.crlURL
        spec.caIssuersURL = plan.authority.caIssuersURL
        spec.ocspURL = plan.authority.ocspURL
        return try plan.signer.sign(spec)
    }

    static func entry(_ plan: Plan, issued: IssuedCertificate, keyAlgorithm: KeyAlgorithm, now: Date, target: String) -> CertificateEntry {
        // The subject and names as the plan rendered them (the certificate carries exactly these).
        CertificateEntry(
            serial: issued.serial, authority: plan.signer.authorityName, thing: plan.request.thing, subjectAuthority: nil,
            template: plan.template.name, subject: plan.profile.subjectText, subjectAltNames: plan.profile.subjectAltNameTexts,
            keyAlgorithm: keyAlgorithm, notBefore: issued.notValidBefore, notAfter: issued.notValidAfter,
            status: .active, revokedAt: nil, revocationReason: nil,
            fingerprintSHA256: issued.fingerprints.certificateSHA256Hex, spkiSHA256: issued.fingerprints.spkiSHA256Hex,
            der: issued.der,
            // Whole seconds, so the value read back from the store equals this one.
            createdAt: Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down)),
            // The json form is handed to the caller with the answer: delivered as far as we can
            // know, so it is recorded so (one write transaction, not two).
            delivery: target == DeliveryTarget.handedOver ? .written : .recorded, deliveryTarget: target)
    }

    /// Records the certificate (`recorded` for `target` until its bundle is written); returns
    /// it with the thing's other active certificates.
    public func record(_ plan: Plan, issued: IssuedCertificate, keyAlgorithm: KeyAlgorithm, now: Date,
                       target: String) throws -> (entry: CertificateEntry, previous: [SerialNumber]) {
        let entry = Self.entry(plan, issued: issued, keyAlgorithm: keyAlgorithm, now: now, target: target)
        let previous = try store.recordIssuance(entry, attributes: plan.request.attributes, renew: plan.request.renew,
                                                reach: plan.request.caller.reach(thing: plan.request.thing))
        return (entry, previous)
    }

    public static func bundle(_ plan: Plan, entry: CertificateEntry, key: PrivateKeyMaterial?,
                              nextKey: (key: PrivateKeyMaterial, pin: String)? = nil, format: BundleFormat = .dir) throws -> Bundle {
        let root = plan.chain.rootFingerprints
        var files = ["cert.pem", "chain.pem", "root.pem", "manifest.json"]
        if key != nil { files.insert("key.pem", at: 1) }
        if nextKey != nil { files.insert("next-key.pem", at: 2) }
        let manifest = BundleManifest(
            thing: plan.request.thing, serial: entry.serial.hex, authority: entry.authority, template: entry.template,
            keyType: entry.keyAlgorithm.rawValue, keySource: key == nil ? "csr" : "generated", subject: entry.subject,
            subjectAltNames: entry.subjectAltNames, notBefore: entry.notBefore, notAfter: entry.notAfter,
            certificateSHA256: entry.fingerprintSHA256, spkiSHA256: entry.spkiSHA256,
            rootCertificateSHA256: root.certificateSHA256Hex,
            rootSPKISHA256: root.spkiSHA256Base64, rootSPKISHA256Hex: root.spkiSHA256Hex,
            files: files, nextSPKISHA256: nextKey?.pin)
        var bundle = Bundle(thing: plan.request.thing, certificateDER: entry.der, privateKey: key, chain: plan.chain, manifest: manifest)
        bundle.nextPrivateKey = nextKey?.key
        bundle.certificationDeclaration = plan.request.certificationDeclaration
        if format == .matter { bundle.manifest.files = bundle.matterFileNames }
        return bundle
    }

    /// The whole issuance: plan, key, sign, record, then the bundle in `format` under
    /// `bundleParent` (p12 needs `bundlePassphrase`).
    /// - Throws: `PolicyError` (policy: names, CSR, template, validity; not found: template),
    ///   `AuthorityError` (not found, unavailable), `KeyError` (passphrase), `IssuanceConflict` or
    ///   `OutputError.exists` (conflict) before anything is recorded; `BundleNotWritten` (output)
    ///   when the certificate is recorded but its bundle could not be written.
    public func issue(_ request: IssueRequest, bundleParent: URL, format: BundleFormat = .dir,
                      bundlePassphrase: Passphrase? = nil) throws -> IssueResult {
        try format.requirePassphrase(bundlePassphrase)
        let plan = try self.plan(request, bundleParent: bundleParent, format: format)
        let keys = try KeyRoll.choose(plan, format: format, bundleParent: bundleParent, store: store, generator: generator)
        let now = store.clock.now()
        let (issued, key, algorithm) = try Self.keyAndCertificate(plan, generator: generator, now: now, key: keys.key)
        let (entry, previous) = try record(plan, issued: issued, keyAlgorithm: algorithm, now: now,
                                           target: DeliveryTarget.make(format: format, out: bundleParent))
        let nextKey = try keys.next.map { next in (key: next, pin: try Fingerprints.spkiSHA256(of: next.publicKey).hexString) }
        if let nextKey {
            // On record before the bundle leaves: a kill between the two leaves a pin whose key
            // never reached disk, and the next renewal refuses to roll past it (the safe side).
            try store.recordNextKey(serial: entry.serial, authority: entry.authority, spki: nextKey.pin)
        }
        let bundle = try Self.bundle(plan, entry: entry, key: key, nextKey: nextKey, format: format)
        var result: IssueResult
        do {
            let location = try bundle.write(format, into: bundleParent, replace: request.renew || request.force, passphrase: bundlePassphrase)
            result = IssueResult(entry: entry, bundle: bundle, location: location)
        } catch {
            throw BundleNotWritten(serial: entry.serial.hex, thing: request.thing, cause: error)
        }
        // Files on disk now (the json form was recorded as delivered).
        if entry.delivery == .recorded { try store.markWritten([(request.thing, entry.serial)]) }
        result.entry.delivery = .written
        if request.supersede && !previous.isEmpty {
            // Only after the new certificate and its bundle exist: a device is never left without one.
            result.superseded = try RevocationService(keyring: keyring).supersede(thing: request.thing, serials: previous).map(\.serial)
        }
        return result
    }

    func template(_ name: String) throws(PolicyError) -> Template {
        if let cached = templates[name] { return cached }
        let template = try catalog.template(name)
        templates[name] = template
        return template
    }

    func chain(of authority: Authority) throws -> CertificateChain {
        if let cached = chains[authority.name] { return cached }
        let chain = try store.chain(of: authority)
        chains[authority.name] = chain
        return chain
    }
}
