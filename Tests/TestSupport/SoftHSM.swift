import Foundation

/// A throwaway SoftHSM2 token in a test folder: its own configuration and token folder, named
/// to the processes a test starts through `environment` (SoftHSM2 reads SOFTHSM2_CONF).
public struct SoftHSM: Sendable {
    public static let userPIN = "1234"
    public static let securityOfficerPIN = "5678"
    public let folder: URL
    public let label: String

    public static var module: String {
        ["/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so", "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so"]
            .first(where: FileManager.default.fileExists(atPath:)) ?? "/usr/lib/softhsm/libsofthsm2.so"
    }

    public static var isInstalled: Bool {
        FileManager.default.fileExists(atPath: module) && FileManager.default.isExecutableFile(atPath: "/usr/bin/softhsm2-util")
            && FileManager.default.isExecutableFile(atPath: "/usr/bin/pkcs11-tool")
    }

    public struct Failed: Error { public let output: String }

    /// Makes the token `label` with the user PIN `userPIN`.
    public init(folder: URL, label: String = "iotca") throws {
        self.folder = folder
        self.label = label
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("tokens"), withIntermediateDirectories: true)
        try Data("directories.tokendir = \(folder.appendingPathComponent("tokens").path)\nlog.level = ERROR\n".utf8)
            .write(to: folder.appendingPathComponent("softhsm2.conf"))
        let made = try ProcessRunner.run("/usr/bin/softhsm2-util", ["--init-token", "--free", "--label", label, "--pin", Self.userPIN,
                                                                   "--so-pin", Self.securityOfficerPIN], environment: environment)
        guard made.succeeded else { throw Failed(output: made.stdout + made.stderr) }
    }

    /// The environment of a process that uses the token (this one's, plus SOFTHSM2_CONF).
    public var environment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["SOFTHSM2_CONF"] = folder.appendingPathComponent("softhsm2.conf").path
        return environment
    }

    /// `pkcs11-tool` (OpenSC) on the token, logged in.
    public func tool(_ arguments: [String]) throws -> ProcessResult {
        try ProcessRunner.run("/usr/bin/pkcs11-tool", ["--module", Self.module, "--token-label", label, "--login", "--pin", Self.userPIN]
                              + arguments, environment: environment)
    }
}
