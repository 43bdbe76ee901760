import Foundation

/// A real mosquitto broker on 127.0.0.1 with a mutual-TLS listener, started for one test and
/// stopped by its PID.
public final class Broker: @unchecked Sendable {
    public let port: Int
    private var pid: pid_t = 0
    public let log: URL

    /// `configuration` is everything but the listener line, which is added with a free port.
    public convenience init(folder: URL, configuration: String) throws {
        let port = try Self.freePort()
        try self.init(folder: folder, complete: "listener \(port) 127.0.0.1\n\(configuration)", port: port)
    }

    /// A configuration with its own listeners (one written by `iotca broker-config`); ready when
    /// `port` accepts. Run as root unless `dropsPrivileges`: then as mosquitto does by default
    /// when started by root, as the user `mosquitto` before it loads its keys.
    public init(folder: URL, complete configuration: String, port: Int, dropsPrivileges: Bool = false) throws {
        self.port = port
        log = folder.appendingPathComponent("mosquitto.log")
        let file = folder.appendingPathComponent("mosquitto-test.conf")
        try Data("\(dropsPrivileges ? "" : "user root\n")log_dest file \(log.path)\nlog_type all\n\(configuration)\n".utf8).write(to: file)
        if dropsPrivileges, let user = getpwnam("mosquitto") {
            // It reopens its log on SIGHUP, by then as that user.
            FileManager.default.createFile(atPath: log.path, contents: nil)
            chown(log.path, user.pointee.pw_uid, user.pointee.pw_gid)
        }
        do {
            pid = try Spawn.start(Self.executable, ["-c", file.path])
        } catch {
            throw BrokerError.didNotStart(log: "\(error)")
        }
        // Until the listener accepts (or the broker died), woken by its log lines; 5 s at most.
        let port = self.port
        // A port another process took first also accepts: mosquitto's log says so (and it exits).
        if FileWatch.wait(in: folder, timeout: 5, until: { Self.accepts(port: port) || !isRunning }), isRunning,
           !((try? String(contentsOf: log, encoding: .utf8)) ?? "").contains("Address already in use") { return }
        stop()
        let logged = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        throw BrokerError.didNotStart(log: logged)
    }

    /// A broker that requires a client certificate from `cafile`'s CAs, names each client by
    /// it, and checks it against `crlfile`.
    public static func mutualTLS(folder: URL, cafile: URL, certfile: URL, keyfile: URL, crlfile: URL) throws -> Broker {
        try Broker(folder: folder, configuration: """
            persistence false
            allow_anonymous false
            require_certificate true
            use_identity_as_username true
            cafile \(cafile.path)
            certfile \(certfile.path)
            keyfile \(keyfile.path)
            crlfile \(crlfile.path)
            """)
    }

    deinit { stop() }

    var isRunning: Bool { Spawn.isRunning(pid) }

    public func stop() {
        guard pid > 0 else { return }
        Spawn.stop(pid, signal: SIGKILL)
        pid = 0
    }

    /// SIGHUP, as `systemctl reload mosquitto` sends: the broker reads its crlfile again. Waits
    /// (woken by its log, 2 s at most) until the log says it reloaded.
    public func reload() throws {
        let before = reloads
        guard kill(pid, SIGHUP) == 0 else { throw BrokerError.didNotStart(log: "SIGHUP failed") }
        guard waitForReload(after: before) else { throw BrokerError.didNotReload }
    }

    /// The broker's process, for a command that signals it (an on-publish hook).
    public var processID: pid_t { pid }

    /// How many times its log says it reloaded.
    public var reloads: Int { FileWatch.occurrences(of: "Reloading", in: log) }

    /// Waits (woken by its log, 2 s at most) until it has reloaded more than `count` times.
    public func waitForReload(after count: Int) -> Bool {
        FileWatch.wait(in: log.deletingLastPathComponent(), timeout: 2, until: { reloads > count })
    }

    public static var executable: String {
        ["/usr/sbin/mosquitto", "/usr/bin/mosquitto", "/usr/local/sbin/mosquitto"].first(where: FileManager.default.isExecutableFile(atPath:)) ?? "/usr/sbin/mosquitto"
    }

    public static var isInstalled: Bool { FileManager.default.isExecutableFile(atPath: executable) }

    public enum BrokerError: Error { case didNotStart(log: String), noPort, didNotReload }

    public static func freePort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw BrokerError.noPort }
        defer { close(descriptor) }
        var address = loopback(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0
            }
        }
        guard bound else { throw BrokerError.noPort }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    public static func accepts(port: Int) -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var address = loopback(port: UInt16(port))
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }

    static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }
}
