import Crypto
import Foundation

/// The library's front door: one operation per user verb, with typed inputs and results, that
/// every front end calls (the CLI now, the service next). Each operation is the composition the
/// CLI used to make itself; the roles behind it (Policy, Signer, Store) stay as they are.
/// Errors are `IoTCAError`s with a `kind`, worded without any front end's flags.
public final class CertificateAuthority {
    public let store: Store
    public let keyring: Keyring
    private var provisionerInstance: Provisioner?

    /// Opens the store at `root`; CA keys are unlocked on first use, once per instance.
    /// - Throws: `StoreError` (missing, not a store, unreadable).
    public init(store root: URL, passphrase: PassphraseSource, clock: WallClock = .system) throws {
        store = try Store.open(root, clock: clock)
        keyring = Keyring(store: store, passphrase: passphrase)
    }

    /// Opens the store in a folder or a shared database.
    public init(store location: StoreLocation, passphrase: PassphraseSource, connections: Int = 4, clock: WallClock = .system) throws {
        store = try Store.open(location, connections: connections, clock: clock)
        keyring = Keyring(store: store, passphrase: passphrase)
    }

    /// `init`: a new store with `root` and `issuing` CAs.
    /// - Throws: see `StoreInitializer.initialize`.
    public static func initialize(at root: URL, options: StoreInitializer.Options, clock: WallClock = .system) throws
        -> StoreInitializer.Result {
        try StoreInitializer.initialize(at: root, options: options, clock: clock)
    }

    /// `init` on a folder or an empty shared database.
    public static func initialize(at location: StoreLocation, options: StoreInitializer.Options, clock: WallClock = .system) throws
        -> StoreInitializer.Result {
        try StoreInitializer.initialize(at: location, options: options, clock: clock)
    }

    /// Shares an unlocked keyring (and its store): the service gives each of its workers one
    /// instance, all signing with the keys it unlocked at start.
    public init(keyring: Keyring) {
        store = keyring.store
        self.keyring = keyring
    }

    private var provisioner: Provisioner {
        if let provisionerInstance { return provisionerInstance }
        let made = Provisioner(keyring: keyring)
        provisionerInstance = made
        return made
    }

    private var authorities: AuthorityManager { AuthorityManager(keyring: keyring) }
    private var revocation: RevocationService { RevocationService(keyring: keyring) }

    // MARK: Issuance

    /// `issue`: one certificate and its bundle.
    /// - Throws: see `Provisioner.issue`.
    public func issue(_ request: IssueRequest, into output: URL, format: BundleFormat = .dir,
                      bundlePassphrase: Passphrase? = nil) throws -> IssueResult {
        try provisioner.issue(request, bundleParent: output, format: format, bundlePassphrase: bundlePassphrase)
    }

    /// Issue for a caller that writes the bundle itself and confirms (the service's clients).
    /// - Throws: see `Provisioner.issueForDelivery`.
    public func issueForDelivery(_ request: IssueRequest, target: String, recover: Bool) throws -> IssueResult {
        try provisioner.issueForDelivery(request, target: target, recover: recover)
    }

    /// The caller's copy of the bundle is on its disk. - Throws: see `Provisioner.confirmDelivery`.
    public func confirmDelivery(thing: String, serial: SerialNumber, supersede: Bool = false, caller: Caller = .local) throws -> [SerialNumber] {
        try provisioner.confirmDelivery(thing: thing, serial: serial, supersede: supersede, caller: caller)
    }

    /// `batch`: every row of a batch file.
    /// - Throws: see `BatchRunner.run`; row failures are in the report.
    public func batch(_ file: URL, into output: URL, options: BatchOptions,
                      progress: ((Int, Int) -> Void)? = nil) throws -> BatchReport {
        let runner = BatchRunner(keyring: keyring)
        return try runner.run(file: file, out: output, options: options, progress: progress)
    }

    // MARK: Revocation and CRLs

    /// `revoke`: by serial or thing, then the issuers' CRLs.
    /// - Throws: see `RevocationService.revoke`.
    public func revoke(_ target: RevocationTarget, reason: RevocationReason = .unspecified,
                       invalidityDate: Date? = nil, caller: Caller = .local) throws -> RevocationService.Outcome {
        try caller.requireOperator(to: "revoke certificates")
        return try revocation.revoke(target, reason: reason, invalidityDate: invalidityDate)
    }

    /// `crl publish`: the named CAs' CRLs, or every CA's. With `ifDue` (cron), certificates
    /// devices replaced whose grace period is over are revoked first.
    /// - Throws: see `RevocationService.publish`.
    public func publishCRLs(of names: [String] = [], ifDue: Bool = false, caller: Caller = .local) throws -> [CRLRecord] {
        try caller.requireOperator(to: "publish CRLs")
        let service = revocation
        if ifDue { try service.supersedeDue() }
        return names.isEmpty ? try service.publishAll(ifDue: ifDue) : try service.publishEach(names, ifDue: ifDue)
    }

    /// Revokes the replaced certificates whose grace period is over (see `RevocationService.supersedeDue`).
    @discardableResult
    public func supersedeDue() throws -> [CertificateEntry] { try revocation.supersedeDue() }

    /// Where a CA's CRL files are published.
    public func crlFiles(of name: String) -> (der: URL, pem: URL) { revocation.crlFiles(of: name) }

    // MARK: Reading

    /// What `crl show` reports for one CA.
    public struct CRLStatus: Sendable, Encodable {
        public let ca: String
        public let crl: CRLRecord?
        public let revoked: [RevokedCertificate]
    }

    /// `crl show`: each CA's (or the named CA's) latest CRL and the certificates it lists.
    /// - Throws: `AuthorityError.notFound`, `StoreError`.
    public func crlStatus(of name: String? = nil) throws -> [CRLStatus] {
        let names = try name.map { [try store.authority(named: $0).name] } ?? store.authorities().map(\.name)
        return try names.map { CRLStatus(ca: $0, crl: try store.latestCRL(of: $0), revoked: try store.revokedCertificates(of: $0)) }
    }

    /// `list`. - Throws: `StoreError`.
    public func certificates(_ filter: CertificateFilter) throws -> [CertificateEntry] { try store.certificates(filter) }

    /// `show`: by serial, else the thing's newest active certificate.
    /// - Throws: `CertificateNotFound`, `StoreError`.
    public func certificate(matching selector: String) throws -> CertificateEntry { try store.certificate(matching: selector) }

    /// `ca list`. - Throws: `StoreError`.
    public func listAuthorities() throws -> [Authority] { try store.authorities() }

    /// `ca show`. - Throws: `AuthorityError.notFound`, `StoreError`.
    public func authority(named name: String) throws -> Authority { try store.authority(named: name) }

    /// `pins`: every CA's, or the named CAs' chains, and the standby keys.
    /// - Throws: `AuthorityError.notFound`, `StoreError`.
    public func pins(of names: [String] = []) throws -> [Pin] { try PinSet.collect(from: store, authorities: names) }

    /// `pins --thing`: a server thing's own key pins and its prepared next key's.
    /// - Throws: `CertificateNotFound`, `StoreError`.
    public func pins(ofThing thing: String) throws -> [Pin] { try PinSet.collect(from: store, thing: thing) }

    /// `audit`. - Throws: `StoreError`.
    public func audit(since: Date? = nil, caller: Caller = .local) throws -> AuditReport {
        try caller.requireOperator(to: "read the audit log")
        return try AuditReport.make(store: store, since: since)
    }

    /// `doctor`: with the passphrase at hand, CA keys are opened and compared too.
    /// - Throws: `StoreError` when the store cannot be read at all.
    public func doctor(bundles: URL? = nil) throws -> Doctor.Report {
        try Doctor(store: store, keyring: keyring).examine(bundles: bundles)
    }

    // MARK: Clients of the service

    /// `station create` / `operator create`: the client's certificate and bundle (from the
    /// role's template), then the station's grants. A station without grants can do nothing,
    /// so a kill between the two leaves nothing dangerous; `setGrants` finishes the job.
    /// - Throws: `PolicyError` (a grant of an unknown or CA template; grants for an operator),
    ///   and whatever `issue` throws.
    public func createClient(_ name: String, role: ClientRole, grants: [ClientGrant], ca: String = ServiceHierarchy.caName,
                             into output: URL, format: BundleFormat = .dir) throws -> IssueResult {
        try checkGrants(grants, role: role)
        let result = try issue(IssueRequest(thing: name, authority: ca, template: role.template), into: output, format: format)
        if role == .station { try store.setGrants(grants, of: name) }
        return result
    }

    /// `station grant`: replaces a station's grants.
    /// - Throws: `PolicyError` (unknown or CA template), `CertificateNotFound` (no such station).
    public func setGrants(_ grants: [ClientGrant], of station: String) throws {
        try checkGrants(grants, role: .station)
        guard try !store.certificates(CertificateFilter(thing: station)).filter({ $0.template == ClientRole.station.template }).isEmpty else {
            throw CertificateNotFound(selector: station)
        }
        try store.setGrants(grants, of: station)
    }

    func checkGrants(_ grants: [ClientGrant], role: ClientRole) throws {
        if role == .operator && !grants.isEmpty {
            throw PolicyError.invalidValue("grants", reason: "an operator may issue with every template; grants are for stations")
        }
        let catalog = TemplateCatalog(store: store)
        for grant in grants {
            let template = try catalog.template(grant.template)
            if template.ca || ClientRole.isServiceTemplate(template.name) {
                throw PolicyError.invalidValue("grant \(grant)", reason: "template \(template.name) does not issue to things a station makes")
            }
        }
    }

    // MARK: Templates (no store needed: the built-in ones always exist)

    /// The catalog of the store at `location`: a folder's templates are read without opening
    /// its database (so `template list` works beside a store that is not made yet); a database
    /// store is opened. - Throws: `StoreError` when the database cannot be.
    static func catalog(_ location: StoreLocation) throws -> TemplateCatalog {
        switch location {
        case .folder(let root): TemplateCatalog(storeFolder: root)
        case .postgres: TemplateCatalog(store: try Store.open(location, connections: 2))
        }
    }

    /// `template list`: the store's templates, then the built-in ones they do not shadow.
    public static func templates(store location: StoreLocation) throws -> [TemplateSummary] {
        try catalog(location).summaries()
    }

    /// `template show`: a template by name (the store's, else built-in) or path.
    /// - Throws: `PolicyError` (not found: unknown name or unreadable file; policy: invalid),
    ///   `StoreError` (a database that cannot be opened).
    public static func template(_ nameOrPath: String, store location: StoreLocation) throws -> Template {
        try catalog(location).template(nameOrPath)
    }

    /// `template add FILE`: the template, checked, becomes the store's own under its name
    /// (`templates/NAME.json`: in the folder, or in the database where every node reads it).
    /// - Throws: `PolicyError` (unreadable or invalid), `TemplateExists` (the store has one of
    ///   that name and `replace` is false); nothing is written then.
    public func addTemplate(from file: URL, replace: Bool = false) throws -> Template {
        let template = try TemplateCatalog.load(file)
        let relative = "templates/\(template.name).json"
        try ThingName.validate(template.name, kind: "template")
        let bytes = Array(try Data(contentsOf: file))
        if replace {
            try store.files.write(relative, bytes, mode: 0o644)
        } else {
            // Created only if absent, in one step: of two adds at once, one is refused.
            do {
                try store.files.createNew(relative, bytes, mode: 0o644)
            } catch OutputError.exists {
                throw TemplateExists(name: template.name)
            }
        }
        try store.write { db in
            try store.raiseTemplatesVersion(db)
            try store.appendEvent(db, action: "template.add", subject: template.name, details: ["sha256": Array(SHA256.hash(data: bytes)).hexString])
        }
        return template
    }

    /// `template remove NAME`: the store's own template goes (a built-in one of that name is then
    /// used again). - Throws: `PolicyError.templateNotFound` when the store has none.
    public func removeTemplate(_ name: String) throws {
        try ThingName.validate(name, kind: "template")
        guard try store.files.remove(["templates/\(name).json"]) == 1 else { throw PolicyError.templateNotFound(name) }
        try store.write { db in
            try store.raiseTemplatesVersion(db)
            try store.appendEvent(db, action: "template.remove", subject: name)
        }
    }

    /// A template of this instance's store, else built-in, by name or path.
    public func template(_ nameOrPath: String) throws(PolicyError) -> Template { try TemplateCatalog(store: store).template(nameOrPath) }

    /// A template of this instance's store, else built-in, by name only (for the service).
    public func template(named name: String) throws(PolicyError) -> Template { try TemplateCatalog(store: store).template(named: name) }

    /// The templates of this instance's store (for the service).
    public func templates() -> [TemplateSummary] { TemplateCatalog(store: store).summaries() }

    // MARK: CAs

    /// `ca create NAME --parent CA`. - Throws: see `AuthorityManager.createSubordinate`.
    public func createCA(_ name: String, parent: String, keyType: KeyAlgorithm? = nil, validity: ValidityPeriod? = nil,
                         template: String = "subordinate-ca", token: PKCS11URI? = nil) throws -> Authority {
        try authorities.createSubordinate(name, parent: parent, keyType: keyType, validity: validity, template: template, token: token)
    }

    /// Where a CA's key lives and whether it can be reached now: a token's is opened (PIN from
    /// the keyring's source, when one is at hand without asking) and checked against the CA's
    /// certificate; a file's is checked by `doctor`.
    public func keyStatus(of name: String) throws -> KeyStatus {
        let authority = try store.authority(named: name)
        guard PKCS11URI.isURI(authority.keyFile) else {
            return KeyStatus(location: authority.keyFile, inToken: false, reachable: nil, problem: nil)
        }
        let uri = try PKCS11URI(parsing: authority.keyFile)
        let location = uri.withoutModule + " (module \(uri.modulePath ?? "-"))"
        guard keyring.tokenPIN?.availableWithoutAsking ?? false else {
            return KeyStatus(location: location, inToken: true, reachable: nil, problem: "not checked: no PIN given")
        }
        do {
            _ = try keyring.openTokenKey(uri, algorithm: authority.keyAlgorithm, authority: name,
                                         expected: try authority.certifiedPublicKey())
            return KeyStatus(location: location, inToken: true, reachable: true, problem: nil)
        } catch {
            return KeyStatus(location: location, inToken: true, reachable: false, problem: "\(error)")
        }
    }

    /// `ca create NAME --external`: the CA and its CSR (PEM).
    /// - Throws: see `AuthorityManager.createExternal`.
    public func createExternalCA(_ name: String, keyType: KeyAlgorithm = .ecP256,
                                 template: String = "subordinate-ca", token: PKCS11URI? = nil) throws -> (Authority, String) {
        try authorities.createExternal(name, keyType: keyType, template: template, token: token)
    }

    /// `ca import`. - Throws: see `AuthorityManager.importCertificate`.
    public func importCA(_ name: String, certificate: [UInt8], chain: [UInt8]?) async throws -> Authority {
        try await authorities.importCertificate(name, certificate: certificate, chain: chain)
    }

    /// `ca set`: nil leaves a setting, an empty URL removes it.
    /// - Throws: `AuthorityError.notFound`, `PolicyError` (URLs), `StoreError`.
    public func configureCA(_ name: String, crlValidity: ValidityPeriod? = nil, crlURL: String? = nil,
                            caIssuersURL: String? = nil, ocspURL: String? = nil, onPublish: String? = nil) throws -> Authority {
        try authorities.updateSettings(of: name, crlValidity: crlValidity, crlURL: crlURL, caIssuersURL: caIssuersURL, ocspURL: ocspURL,
                                       onPublish: onPublish)
    }

    /// `ca create-service`: the service's own CAs for a store made before `init` made them.
    /// - Throws: `AuthorityError.alreadyExists`, `KeyError`.
    public func createServiceHierarchy() throws -> (root: Authority, service: Authority) {
        let root = try store.authority(named: StoreInitializer.rootName)
        let token = PKCS11URI.isURI(root.keyFile) ? (try? PKCS11URI(parsing: root.keyFile)).map { PKCS11URI(token: $0.token, modulePath: $0.modulePath) } : nil
        return try authorities.createServiceHierarchy(keyType: root.keyAlgorithm, token: token)
    }

    /// `ca move-key`: a CA's file key into a token. - Throws: see `AuthorityManager.moveKey`.
    public func moveKey(of name: String, to token: PKCS11URI,
                        step: (KeyMoveStep) -> Void = { _ in }) throws -> (authority: Authority, location: PKCS11URI) {
        try authorities.moveKey(of: name, to: token, step: step)
    }

    /// `ca enable` / `ca disable`. - Throws: `AuthorityError` (not found, pending, revoked).
    public func setStatus(_ status: Authority.Status, of name: String) throws -> Authority {
        try authorities.setStatus(status, of: name)
    }

    /// `ca rotate-root`. - Throws: `AuthorityError.noStandbyKey`, `KeyError`, `StoreError`.
    public func rotateRoot(validity: ValidityPeriod? = nil) throws -> (root: Authority, standby: StandbyKey) {
        try authorities.rotateRoot(validity: validity)
    }

    /// `ca verification-cert`. - Throws: `PolicyError` (the code), `AuthorityError`, `KeyError`.
    public func verificationCertificate(ca name: String, registrationCode: String,
                                        validity: ValidityPeriod? = nil) throws -> IssuedCertificate {
        try authorities.verificationCertificate(ca: name, registrationCode: registrationCode, validity: validity)
    }

    /// `passphrase change`. - Throws: see `PassphraseChange.run`.
    public func changePassphrase(current: Passphrase?, new: Passphrase,
                                 step: (PassphraseChange.Step) -> Void = { _ in }) throws -> PassphraseChange.Report {
        try PassphraseChange(store: store).run(current: current, new: new, step: step)
    }
}
