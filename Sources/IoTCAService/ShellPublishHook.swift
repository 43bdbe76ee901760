import Foundation
import IoTCAKit

/// How the CLI and the service run a CA's on-publish command: `sh -c COMMAND` in an
/// environment of PATH, IOTCA_CA, IOTCA_CRL_DER and IOTCA_CRL_PEM alone, stdin from /dev/null,
/// stdout discarded, stderr kept for the report, at most 30 seconds.
public enum ShellPublishHook {
    static let timeout: TimeInterval = 30

    /// The command's whole environment.
    static func environment(authority: String, der: URL, pem: URL) -> [String: String] {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        return ["PATH": path, "IOTCA_CA": authority, "IOTCA_CRL_DER": der.path, "IOTCA_CRL_PEM": pem.path]
    }

    public static let run: PublishHook.Runner = { command, authority, der, pem in
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        // Only what the command needs: never the CA passphrase, a token PIN or a database
        // password that this process was started with.
        process.environment = environment(authority: authority, der: der, pem: pem)
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        let errors = FileManager.default.temporaryDirectory.appendingPathComponent("iotca-hook-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: errors) }
        let ended = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in ended.signal() }
        do {
            _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
            process.standardError = try FileHandle(forWritingTo: errors)
            try process.run()
        } catch {
            return "could not start /bin/sh: \(error)"
        }
        guard ended.wait(timeout: .now() + timeout) == .success else {
            process.terminate()
            return "still running after \(Int(timeout)) s (stopped)"
        }
        if process.terminationReason == .exit && process.terminationStatus == 0 { return nil }
        let said = ((try? String(contentsOf: errors, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        let how = process.terminationReason == .exit ? "exit \(process.terminationStatus)" : "signal \(process.terminationStatus)"
        return said.isEmpty ? how : "\(how): \(String(said.suffix(500)))"
    }
}
