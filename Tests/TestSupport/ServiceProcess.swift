import Foundation

/// A real `iotca serve` on 127.0.0.1, on ports the kernel chose, started for one test and
/// stopped by its PID.
public final class ServiceProcess: @unchecked Sendable {
    public private(set) var pid: pid_t = 0
    /// `https://127.0.0.1:PORT` and `http://127.0.0.1:PORT`.
    public let apiURL: String
    public let publicURL: String
    public let log: URL

    public struct DidNotStart: Error, CustomStringConvertible {
        public let description: String
    }

    /// Starts `iotca serve` on `store` with `environment` (the passphrase's variable, say) and
    /// `arguments`; returns once both listeners are bound (woken by its output, 60 s at most:
    /// the start unlocks the CA keys at 600,000 PBKDF2 iterations each).
    public convenience init(store: URL, environment: [String: String], arguments: [String] = [], folder: URL) throws {
        try self.init(store: store.path, environment: environment, arguments: arguments, folder: folder)
    }

    /// The same on a store named by its folder's path or a database URL (`TemporaryStore.storeArgument`).
    public init(store: String, environment: [String: String], arguments: [String] = [], folder: URL) throws {
        let output = folder.appendingPathComponent("serve.out")
        log = folder.appendingPathComponent("serve.log")
        pid = try Spawn.start(ProcessRunner.iotcaExecutable,
                              ["serve", "--store", store, "--api-listen", "127.0.0.1:0", "--public-listen", "127.0.0.1:0"] + arguments,
                              environment: environment, stdout: output, stderr: log)
        let pid = self.pid
        func lines() -> [String] { ((try? String(contentsOf: output, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init) }
        func running() -> Bool { kill(pid, 0) == 0 && waitpid(pid, nil, WNOHANG) == 0 }
        _ = FileWatch.wait(in: folder, timeout: 60, until: { lines().count >= 2 || !running() })
        let printed = lines()
        guard printed.count >= 2, let api = printed.first(where: { $0.hasPrefix("api listening on ") }),
              let open = printed.first(where: { $0.hasPrefix("public listening on ") }) else {
            Spawn.stop(pid, signal: SIGKILL)
            self.pid = 0
            throw DidNotStart(description: (try? String(contentsOf: log, encoding: .utf8)) ?? "no log")
        }
        apiURL = String(api.dropFirst("api listening on ".count))
        publicURL = String(open.dropFirst("public listening on ".count))
    }

    deinit { if pid > 0 { Spawn.stop(pid, signal: SIGKILL) } }

    /// The last lines of its log when it has died on its own (a crash's message, which the test's
    /// folder takes with it when it is removed); nil while it runs.
    public func deathNotice() -> String? {
        guard pid > 0, !Spawn.isRunning(pid) else { return nil }
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? "no log"
        return "the node died; its log ends:\n" + text.split(separator: "\n").suffix(20).joined(separator: "\n")
    }

    /// SIGTERM (or `signal`), then the exit status.
    @discardableResult
    public func stop(signal: Int32 = SIGTERM) -> Int32 {
        guard pid > 0 else { return -1 }
        defer { pid = 0 }
        return Spawn.stop(pid, signal: signal)
    }
}
