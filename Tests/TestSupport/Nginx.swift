import Foundation

/// A real nginx on 127.0.0.1 (Debian's package), with everything it writes in one test folder,
/// started for one test in the foreground and stopped by its PID.
public final class Nginx: @unchecked Sendable {
    public let port: Int
    private var pid: pid_t = 0
    public let errorLog: URL

    public enum NginxError: Error { case didNotStart(log: String) }

    public static var executable: String {
        ["/usr/sbin/nginx", "/usr/bin/nginx", "/usr/local/sbin/nginx"].first(where: FileManager.default.isExecutableFile(atPath:)) ?? "/usr/sbin/nginx"
    }

    public static var isInstalled: Bool { FileManager.default.isExecutableFile(atPath: executable) }

    /// `server` is the body of one `server {}` block; its `listen` line is added with a free port.
    /// One process (no master): enough for a test that never reloads it.
    public convenience init(folder: URL, server: String) throws {
        let port = try Broker.freePort()
        try self.init(folder: folder, http: """
            server {
                listen 127.0.0.1:\(port) ssl;
            \(server)
            }
            """, ports: [port], masterProcess: false)
    }

    /// `http` is the body of the http {} block (a file `iotca broker-config` wrote, included);
    /// ready when every one of `ports` accepts. A reload (SIGHUP) needs the master process:
    /// nginx without one loses its TLS listeners on reconfiguring (seen with 1.22).
    public init(folder: URL, http: String, ports: [Int], masterProcess: Bool) throws {
        port = ports.first ?? 0
        errorLog = folder.appendingPathComponent("nginx-error.log")
        let temporary = folder.appendingPathComponent("nginx-temp").path
        try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: true)
        let configuration = """
            worker_processes 1;
            daemon off;
            master_process \(masterProcess ? "on" : "off");
            pid \(folder.appendingPathComponent("nginx.pid").path);
            error_log \(errorLog.path) info;
            events { worker_connections 64; }
            http {
                access_log off;
                client_body_temp_path \(temporary)/body;
                proxy_temp_path \(temporary)/proxy;
                fastcgi_temp_path \(temporary)/fastcgi;
                uwsgi_temp_path \(temporary)/uwsgi;
                scgi_temp_path \(temporary)/scgi;
            \(http)
            }
            """
        let file = folder.appendingPathComponent("nginx.conf")
        try Data(configuration.utf8).write(to: file)
        pid = try Spawn.start(Self.executable, ["-c", file.path, "-p", folder.path, "-e", errorLog.path])
        // A port another process took first also accepts: nginx's log says so (and it exits
        // after retrying); a caller may then try other ports.
        if FileWatch.wait(in: folder, timeout: 5, until: { ports.allSatisfy(Broker.accepts(port:)) || !isRunning }), isRunning,
           !((try? String(contentsOf: errorLog, encoding: .utf8)) ?? "").contains("Address already in use") { return }
        stop()
        throw NginxError.didNotStart(log: (try? String(contentsOf: errorLog, encoding: .utf8)) ?? "no log")
    }

    /// The master process, for a command that signals it (an on-publish hook).
    public var processID: pid_t { pid }

    /// How many times its workers were told to finish after a reload: once they are, only
    /// workers with the new configuration accept connections.
    public var reloads: Int { FileWatch.occurrences(of: "gracefully shutting down", in: errorLog) }

    /// Waits (woken by its log, 5 s at most) until it has reloaded more than `count` times.
    public func waitForReload(after count: Int) -> Bool {
        FileWatch.wait(in: errorLog.deletingLastPathComponent(), timeout: 5, until: { reloads > count })
    }

    deinit { stop() }

    var isRunning: Bool { Spawn.isRunning(pid) }

    /// SIGTERM: the master stops its workers before it exits (SIGKILL would leave them running).
    public func stop() {
        guard pid > 0 else { return }
        Spawn.stop(pid, signal: SIGTERM)
        pid = 0
    }
}
