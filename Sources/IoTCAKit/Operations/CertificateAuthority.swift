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

    var authorities: AuthorityManager { AuthorityManager(keyring: keyring) }
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

    /// `list` for a fleet: each certificate `filter` selects, as it is read.
    public func forEachCertificate(_ filter: CertificateFilter, _ body: (CertificateEntry) throws -> Void) throws {
        try store.forEachCertificate(filter, body)
    }

    /// `show`: by serial, else the thing's newest active certificate.
    /// - Throws: `CertificateNotFound`, `StoreError`.
    public func certificate(matching selector: String) throws -> CertificateEntry { try store.certificate(matching: selector) }

    /// The certificate with `serial` (the newest, should two CAs have used it), never a thing's:
    /// what a route named by serial answers. - Throws: `CertificateNotFound`.
    public func certificate(serial: SerialNumber) throws -> CertificateEntry {
        guard let entry = try store.certificates(serial: serial).last else { throw CertificateNotFound(selector: serial.hex) }
        return entry
    }

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

    /// `audit` (the CLI and `GET /v1/audit`), written as the store is read (see `AuditStream`);
    /// operators only. - Throws: `AccessDenied`, `StoreError`, `OutputError`.
    public func writeAudit(_ format: AuditStream.Format, events: Bool = false, since: Date? = nil, caller: Caller = .local,
                           to output: StreamWriter) throws -> AuditStream.Verdict {
        try caller.requireOperator(to: "read the audit log")
        return try AuditStream(store: store).write(format, events: events, since: since, to: output)
    }

    /// `doctor`: with the passphrase at hand, CA keys are opened and compared too; `sample`
    /// checks about that many certificates, picked at random, instead of all.
    /// - Throws: `StoreError` when the store cannot be read at all.
    public func doctor(bundles: URL? = nil, sample: Int? = nil) throws -> Doctor.Report {
        try Doctor(store: store, keyring: keyring).examine(bundles: bundles, sample: sample)
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
}
