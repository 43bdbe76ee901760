import Foundation

/// The operator's command run after a CA's new CRL is written (`on_publish`): `sh -c COMMAND`
/// with IOTCA_CA, IOTCA_CRL_DER and IOTCA_CRL_PEM in its environment, stdin from /dev/null, at
/// most `timeout` seconds. A revocation that is published but not loaded protects nobody:
/// mosquitto reads its crlfile at start and on SIGHUP, nginx its ssl_crl on reload.
enum PublishHook {
    static let timeout: TimeInterval = 30

    /// `command` as a setting: nil leaves it, "" removes it.
    static func checked(_ command: String?) throws(PolicyError) -> String?? {
        guard let command else { return .none }
        if command.isEmpty { return .some(nil) }
        guard command.utf8.count <= 4_096, !command.contains("\0") else {
            throw .invalidValue("on-publish command", reason: "at most 4096 bytes, no NUL")
        }
        return .some(command)
    }

    /// Runs it; nil when it exited 0, else what went wrong (exit status and the end of stderr).
    static func run(_ command: String, authority: String, der: URL, pem: URL) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        process.environment = ProcessInfo.processInfo.environment.merging(
            ["IOTCA_CA": authority, "IOTCA_CRL_DER": der.path, "IOTCA_CRL_PEM": pem.path]) { $1 }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        let errors = FileManager.default.temporaryDirectory.appendingPathComponent("iotca-hook-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: errors) }
        let ended = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in ended.signal() }
        do {
            FileManager.default.createFile(atPath: errors.path, contents: nil)
            process.standardError = try FileHandle(forWritingTo: errors)
            try process.run()
        } catch {
            return "could not start /bin/sh: \(error)"
        }
        guard ended.wait(timeout: .now() + timeout) == .success else {
            process.terminate()
            return "still running after \(Int(timeout)) s (stopped)"
        }
        let said = ((try? String(contentsOf: errors, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard process.terminationStatus != 0 || process.terminationReason != .exit else { return nil }
        let how = process.terminationReason == .exit ? "exit \(process.terminationStatus)" : "signal \(process.terminationStatus)"
        return said.isEmpty ? how : "\(how): \(String(said.suffix(500)))"
    }
}

/// CRLs are published, but the command that makes servers load them failed: the revocations
/// and CRLs stand (they are recorded and on disk); the servers may still hold the old CRL.
public struct OnPublishFailed: IoTCAError, Equatable {
    public struct Failure: Sendable, Equatable {
        public let authority: String
        public let number: Int64
        public let reason: String
    }
    public let failures: [Failure]
    /// What was done before the command failed, for the caller to report.
    public let revoked: [String]
    public var kind: ErrorKind { .output }

    public var description: String {
        let what = failures.map { "CRL \($0.number) of \($0.authority) is published, but its on-publish command failed (\($0.reason))" }
        let done = revoked.isEmpty ? "" : "revoked \(revoked.joined(separator: ", ")); "
        return done + what.joined(separator: "; ") + "; the revocation stands: fix the command and publish again so servers load the CRL"
    }
}
