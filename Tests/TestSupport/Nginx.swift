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
    public init(folder: URL, server: String) throws {
        port = try Broker.freePort()
        errorLog = folder.appendingPathComponent("nginx-error.log")
        let temporary = folder.appendingPathComponent("nginx-temp").path
        try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: true)
        let configuration = """
            worker_processes 1;
            daemon off;
            master_process off;
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
                server {
                    listen 127.0.0.1:\(port) ssl;
            \(server)
                }
            }
            """
        let file = folder.appendingPathComponent("nginx.conf")
        try Data(configuration.utf8).write(to: file)
        pid = try Spawn.start(Self.executable, ["-c", file.path, "-p", folder.path, "-e", errorLog.path])
        let port = self.port
        if FileWatch.wait(in: folder, timeout: 5, until: { Broker.accepts(port: port) || !isRunning }), isRunning { return }
        stop()
        throw NginxError.didNotStart(log: (try? String(contentsOf: errorLog, encoding: .utf8)) ?? "no log")
    }

    deinit { stop() }

    var isRunning: Bool { Spawn.isRunning(pid) }

    public func stop() {
        guard pid > 0 else { return }
        Spawn.stop(pid, signal: SIGKILL)
        pid = 0
    }
}
