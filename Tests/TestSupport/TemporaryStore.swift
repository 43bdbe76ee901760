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

    public init(keyType: KeyAlgorithm = .ecP256, encrypted: Bool = true, organization: String = "Test Fleet",
                publicURL: String? = nil, start: Date = Date()) throws {
        folder = TemporaryFolder()
        clock = ManualClock(start)
        let passphrase = encrypted ? Passphrase(Self.passphrase) : nil
        var options = StoreInitializer.Options(organization: organization, keyType: keyType, passphrase: passphrase)
        options.publicURL = publicURL
        // Fixtures only: a fast KDF, by its explicit name (doctor flags such key files).
        options.keyProtection = .insecureFastForTests
        result = try StoreInitializer.initialize(at: folder.appending("store"), options: options, clock: clock.clock)
        store = try Store.open(folder.appending("store"), clock: clock.clock)
        keyring = Keyring(store: store, passphrase: .fixed(passphrase))
        keyring.keyProtection = .insecureFastForTests
        provisioner = Provisioner(keyring: keyring)
    }

    public var storeURL: URL { folder.appending("store") }

    /// The environment of an iotca process (a CLI, `iotca serve`) that opens this store: its
    /// passphrase and a PATH, nothing else of the runner's.
    public var processEnvironment: [String: String] {
        ["IOTCA_PASSPHRASE": Self.passphrase, "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]
    }
    public var bundles: URL { folder.appending("bundles") }

    @discardableResult
    public func issue(_ request: IssueRequest) throws -> IssueResult {
        try provisioner.issue(request, bundleParent: bundles)
    }
}
