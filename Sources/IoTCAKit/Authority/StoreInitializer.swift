import Foundation

/// `iotca init`: a new store with a self-signed root CA named `root` and an issuing CA named
/// `issuing` (pathLen 0) signed by it. The store is built in a hidden sibling folder and
/// renamed into place at the end, so a failure leaves nothing behind and a store that exists
/// is always complete.
public enum StoreInitializer {
    public struct Options: Sendable {
        public var organization: String
        public var keyType: KeyAlgorithm
        public var rootValidity: ValidityPeriod?
        public var issuingValidity: ValidityPeriod?
        /// nil stores CA keys unencrypted (`--insecure-no-passphrase`).
        public var passphrase: Passphrase?
        /// How long each CRL is valid; 7 days when nil.
        public var crlValidity: ValidityPeriod?
        /// Where STORE/public is served: CAs get BASE/NAME.crl as CRL distribution point and
        /// BASE/NAME.crt as CA-issuers URL.
        public var publicURL: String?
        /// How the CA key files are encrypted (`.standard` but in test fixtures).
        public var keyProtection: KeyProtection = .standard
        /// Make the root, issuing and standby keys in this PKCS#11 token (its URI with the
        /// module's path) instead of key files; `tokenPIN` gives its user PIN.
        public var token: PKCS11URI?
        public var tokenPIN: PassphraseSource?
        /// A Matter attestation store: the root is a PAA (template matter-paa, this vendor ID),
        /// the issuing CA a PAI (matter-pai, the vendor ID and the product ID if any).
        public var matter: MatterIdentity?

        public init(organization: String = "iotca", keyType: KeyAlgorithm = .ecP256, rootValidity: ValidityPeriod? = nil,
                    issuingValidity: ValidityPeriod? = nil, passphrase: Passphrase?) {
            self.organization = organization
            self.keyType = keyType
            self.rootValidity = rootValidity
            self.issuingValidity = issuingValidity
            self.passphrase = passphrase
        }
    }

    public struct Result: Sendable {
        public let root: Authority
        public let issuing: Authority
        public let rootFingerprints: Fingerprints
    }

    public static let rootName = "root"
    public static let issuingName = "issuing"

    /// A new store in a folder or a shared database. In a database, the store is built in a
    /// private folder exactly as in a folder, then copied in one transaction (`StoreCopy`), so
    /// a database holds a whole store or none; its CA keys must be encrypted or in a token.
    public static func initialize(at location: StoreLocation, options: Options, clock: WallClock = .system) throws -> Result {
        guard case .postgres(let postgres, let node) = location else { return try initialize(at: location.folder, options: options, clock: clock) }
        if options.passphrase == nil && options.token == nil {
            throw StoreError.badLocation(postgres.description, detail: "a shared database takes encrypted CA keys only: give a passphrase, or make the keys in a PKCS#11 token")
        }
        try check(options)
        if let passphrase = options.passphrase { try PassphrasePolicy.check(passphrase) }
        if let url = options.publicURL { try URLPolicy.check(url, field: "public URL") }
        // Refused before any key is made when the database already holds a store.
        let target = try Store.createShared(postgres, nodeFolder: node, clock: clock)
        defer { try? target.close() }
        let staging = FileManager.default.temporaryDirectory.appendingPathComponent("iotca-init-\(AtomicFile.randomSuffix())")
        defer { try? FileManager.default.removeItem(at: staging) }
        let result = try initialize(at: staging, options: options, clock: clock)
        let built = try Store.open(staging, clock: clock)
        defer { try? built.close() }
        try StoreCopy.copy(from: built, to: target)
        // This node's copies of the CA certificates, as a folder store has them.
        try StoreCopy.copyPublicFiles(from: built, to: target)
        return result
    }

    /// - Throws: `StoreError.alreadyExists` (store), `PolicyError` (organization, URL),
    ///   `KeyError` (passphrase policy); nothing is left behind.
    public static func initialize(at location: URL, options: Options, clock: WallClock = .system) throws -> Result {
        let now = clock.now()
        let target = location.standardizedFileURL
        let files = FileManager.default
        var isDirectory: ObjCBool = false
        if files.fileExists(atPath: target.path, isDirectory: &isDirectory) {
            let empty = isDirectory.boolValue && ((try? files.contentsOfDirectory(atPath: target.path))?.isEmpty ?? false)
            guard empty else { throw StoreError.alreadyExists(path: target.path) }
        }
        try check(options)
        // Checked before anything is made: a refused passphrase leaves nothing behind.
        if let passphrase = options.passphrase { try PassphrasePolicy.check(passphrase) }
        if let url = options.publicURL { try URLPolicy.check(url, field: "public URL") }
        let parent = target.deletingLastPathComponent()
        let staging = parent.appendingPathComponent(".\(target.lastPathComponent).init-\(AtomicFile.randomSuffix())")
        do {
            try files.createDirectory(at: parent, withIntermediateDirectories: true)
            try makeFolder(staging, mode: 0o700)
        } catch {
            throw StoreError.io(path: staging.path, detail: (error as NSError).localizedDescription)
        }
        do {
            let result = try build(in: staging, options: options, clock: clock, now: now)
            // Every name inside reaches the disk before the store appears under its own name,
            // and that name before init reports success.
            let layout = StoreLayout(root: staging)
            for folder in [layout.keys, layout.publicFolder, layout.templates, layout.locks, staging] {
                try AtomicFile.syncFolder(folder)
            }
            // rename(2) replaces an empty folder, and fails if someone filled it meanwhile.
            guard rename(staging.path, target.path) == 0 else {
                throw errno == ENOTEMPTY || errno == EEXIST
                    ? StoreError.alreadyExists(path: target.path)
                    : StoreError.io(path: target.path, detail: String(cString: strerror(errno)))
            }
            try AtomicFile.syncFolder(parent)
            return result
        } catch {
            try? files.removeItem(at: staging)
            throw error
        }
    }

    static func check(_ options: Options) throws(PolicyError) {
        let organization = options.organization
        guard !organization.isEmpty, organization.count <= 64,
              !organization.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw .invalidValue("organization", reason: "\(PolicyError.quoted(organization)) must be 1-64 printable characters")
        }
        if let matter = options.matter {
            guard matter.vendorID != nil else { throw .outsideMatterProfile(rule: "a Matter store's PAI carries a vendor ID: give one") }
            guard options.keyType == .ecP256 else {
                throw .outsideMatterProfile(rule: "Matter attestation CAs have EC P-256 keys, not \(options.keyType.rawValue)")
            }
        }
    }

    private static func build(in folder: URL, options: Options, clock: WallClock, now: Date) throws -> Result {
        let layout = StoreLayout(root: folder)
        try makeFolder(layout.keys, mode: 0o700)
        try makeFolder(layout.publicFolder, mode: 0o755)
        try makeFolder(layout.templates, mode: 0o755)
        try makeFolder(layout.locks, mode: 0o700)
        let store = try Store.create(folder, organization: options.organization, clock: clock)
        try store.setSetting("keys_encrypted", options.passphrase == nil && options.token == nil ? "false" : "true")
        if options.matter != nil { try store.setSetting(MatterPolicy.storeProfileSetting, "matter") }
        if let validity = options.crlValidity { try store.setSetting("crl_validity_seconds", String(validity.seconds)) }
        if let url = options.publicURL {
            try store.setSetting("public_url", url.hasSuffix("/") ? String(url.dropLast()) : url)
        }
        let keyring = Keyring(store: store, passphrase: .fixed(options.passphrase))
        keyring.keyProtection = options.keyProtection
        keyring.tokenPIN = options.tokenPIN
        let manager = AuthorityManager(keyring: keyring)

        let vendor = options.matter?.vendorID.map { [MatterPolicy.vendorAttribute: $0.description] } ?? [:]
        let product = options.matter?.productID.map { [MatterPolicy.productAttribute: $0.description] } ?? [:]
        let root = try manager.createRoot(rootName, keyType: options.keyType, validity: options.rootValidity, token: options.token, now: now,
                                          template: options.matter == nil ? "root-ca" : "matter-paa", attributes: vendor)
        // A token URI naming one object is the root's; the other keys are made new.
        let newKeys = options.token.map { PKCS11URI(token: $0.token, modulePath: $0.modulePath) }
        let issuing = try manager.createSubordinate(issuingName, parent: rootName, keyType: options.keyType,
                                                    validity: options.issuingValidity,
                                                    template: options.matter == nil ? "subordinate-ca" : "matter-pai",
                                                    token: newKeys, now: now, attributes: vendor.merging(product) { first, _ in first })
        // A PAA is not rotated (MatterPolicy.checkRootRotation): no standby root for it.
        if options.matter == nil { try manager.createStandbyKey(options.keyType, token: newKeys, now: now) }
        try manager.createServiceHierarchy(keyType: options.keyType, token: newKeys, now: now)
        guard let issued = try? IssuedCertificate(try root.certificate()) else {
            throw StoreError.database("the new root's certificate does not read back")
        }
        try store.write { db in
            try store.appendEvent(db, action: "store.init", subject: options.organization, details: [
                "root_certificate_sha256": issued.fingerprints.certificateSHA256Hex,
                "root_spki_sha256": issued.fingerprints.spkiSHA256Base64,
            ], at: now)
        }
        try store.close()
        return Result(root: root, issuing: issuing, rootFingerprints: issued.fingerprints)
    }

    private static func makeFolder(_ url: URL, mode: mode_t) throws {
        guard mkdir(url.path, mode) == 0, chmod(url.path, mode) == 0 else {
            throw StoreError.io(path: url.path, detail: String(cString: strerror(errno)))
        }
    }
}
