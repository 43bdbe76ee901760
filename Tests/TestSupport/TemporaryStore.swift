import Foundation
import IoTCAKit

/// A fresh folder under the system temporary directory, removed when the value is released.
public final class TemporaryFolder: @unchecked Sendable {
    public let url: URL

    public init(_ label: String = "iotca-test") {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("\(label)-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    public func path(_ relative: String) -> String { url.appendingPathComponent(relative).path }
    public func appending(_ relative: String) -> URL { url.appendingPathComponent(relative) }
}

/// A store made by `StoreInitializer` in a temporary folder, with its keyring and provisioner.
public final class TemporaryStore: @unchecked Sendable {
    public static let passphrase = "test passphrase"

    public let folder: TemporaryFolder
    public let store: Store
    public let keyring: Keyring
    public let provisioner: Provisioner
    public let result: StoreInitializer.Result
    /// The time the store reads: tests move it instead of sleeping.
    public let clock: ManualClock
    /// Where the store is: `storeURL`'s folder, or a database of `postgres`.
    public let location: StoreLocation
    /// The PostgreSQL server of a shared store, kept running as long as the store is.
    public let postgres: PostgresServer?

    /// The engines a store can be on: the store's shared tests run on each.
    public enum Backend: String, Sendable, CaseIterable, CustomStringConvertible {
        case sqlite, postgres
        public var description: String { rawValue }
    }

    /// A store on `backend`: a folder, or a new database on a PostgreSQL server of its own.
    public convenience init(backend: Backend, keyType: KeyAlgorithm = .ecP256, start: Date = Date()) throws {
        switch backend {
        case .sqlite: try self.init(keyType: keyType, start: start)
        case .postgres: try self.init(postgres: try PostgresServer(), keyType: keyType, start: start)
        }
    }

    /// A store in a new database of `server`, made by `init` as on a folder; with `relay`, the
    /// store talks to the server through it.
    public init(postgres server: PostgresServer, through relay: PostgresRelay? = nil, keyType: KeyAlgorithm = .ecP256,
                start: Date = Date()) throws {
        folder = TemporaryFolder()
        clock = ManualClock(start)
        postgres = server
        let url = try server.createDatabase()
        location = try server.location(relay?.url(url) ?? url, node: folder.appending("node"))
        var options = StoreInitializer.Options(organization: "Test Fleet", keyType: keyType, passphrase: Passphrase(Self.passphrase))
        options.keyProtection = .insecureFastForTests
        result = try StoreInitializer.initialize(at: location, options: options, clock: clock.clock)
        store = try Store.open(location, connections: 8, clock: clock.clock)
        keyring = Keyring(store: store, passphrase: .fixed(Passphrase(Self.passphrase)))
        keyring.keyProtection = .insecureFastForTests
        provisioner = Provisioner(keyring: keyring)
    }

    public init(keyType: KeyAlgorithm = .ecP256, encrypted: Bool = true, organization: String = "Test Fleet",
                publicURL: String? = nil, start: Date = Date(), matter: MatterIdentity? = nil) throws {
        folder = TemporaryFolder()
        clock = ManualClock(start)
        let passphrase = encrypted ? Passphrase(Self.passphrase) : nil
        var options = StoreInitializer.Options(organization: organization, keyType: keyType, passphrase: passphrase)
        options.publicURL = publicURL
        options.matter = matter
        // Fixtures only: a fast KDF, by its explicit name (doctor flags such key files).
        options.keyProtection = .insecureFastForTests
        result = try StoreInitializer.initialize(at: folder.appending("store"), options: options, clock: clock.clock)
        store = try Store.open(folder.appending("store"), clock: clock.clock)
        location = .folder(folder.appending("store"))
        postgres = nil
        keyring = Keyring(store: store, passphrase: .fixed(passphrase))
        keyring.keyProtection = .insecureFastForTests
        provisioner = Provisioner(keyring: keyring)
    }

    public var storeURL: URL { folder.appending("store") }

    /// What `--store` (or IOTCA_STORE) names: the folder's path or the database's URL.
    public var storeArgument: String {
        switch location {
        case .folder(let url): url.path
        case .postgres(let database, _): postgres?.url(database.database) ?? ""
        }
    }

    /// The environment of an iotca process (a CLI, `iotca serve`) that opens this store: its
    /// passphrase and a PATH, nothing else of the runner's.
    public var processEnvironment: [String: String] {
        var environment = ["IOTCA_PASSPHRASE": Self.passphrase, "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]
        if postgres != nil {
            environment["PGPASSWORD"] = PostgresServer.password
            environment["IOTCA_NODE_DIR"] = location.folder.path
        }
        return environment
    }
    public var bundles: URL { folder.appending("bundles") }

    @discardableResult
    public func issue(_ request: IssueRequest) throws -> IssueResult {
        try provisioner.issue(request, bundleParent: bundles)
    }
}
