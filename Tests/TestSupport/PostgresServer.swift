import Foundation
import IoTCAKit
import Synchronization

/// A real PostgreSQL (Debian's package) on 127.0.0.1 for one test: its own cluster in a test
/// folder, copied from one `initdb` made per test process, started in the foreground as the
/// unprivileged user `postgres` when the tests run as root (PostgreSQL refuses root), and
/// stopped by its PID. Password login (SCRAM), as a production server would ask.
public final class PostgresServer: @unchecked Sendable {
    public static let user = "iotca"
    public static let password = "pg test password"

    public let port: Int
    public let folder: TemporaryFolder
    private var pid: pid_t = 0
    private var data: URL { folder.appending("data") }
    public var log: URL { folder.appending("postgres.log") }
    /// The server's certificate when it was made with `tls` (its own root: self-signed).
    public var tlsCertificate: URL { folder.appending("server.crt") }

    public enum PostgresError: Error, CustomStringConvertible {
        case notInstalled
        case failed(String)
        public var description: String {
            switch self {
            case .notInstalled: "PostgreSQL's binaries are not installed (apt-get install postgresql)"
            case .failed(let detail): detail
            }
        }
    }

    /// The newest PostgreSQL's programs under /usr/lib/postgresql.
    public static var binaries: String? {
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).compactMap { Int($0) }.sorted()
        guard let newest = versions.last else { return nil }
        let folder = "\(root)/\(newest)/bin"
        return FileManager.default.isExecutableFile(atPath: "\(folder)/postgres") ? folder : nil
    }

    public static var isInstalled: Bool { binaries != nil }

    /// Whether commits reach the disk (fsync on, as in production: benchmarks); tests turn it off.
    public let durable: Bool

    /// With `tls`, the server has a self-signed certificate for 127.0.0.1 (`tlsCertificate`) and
    /// takes logins over TLS only (`hostssl` in pg_hba.conf, plain connections rejected).
    public init(durable: Bool = false, tls: Bool = false) throws {
        self.durable = durable
        guard let binaries = Self.binaries else { throw PostgresError.notInstalled }
        folder = TemporaryFolder("iotca-pg")
        port = try Broker.freePort()
        let template = try Self.template(binaries)
        try run("/bin/cp", ["-a", template.path, data.path])
        if tls {
            try run("/usr/bin/openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
                                         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                                         "-keyout", data.appendingPathComponent("server.key").path, "-out", tlsCertificate.path])
            try run("/bin/cp", [tlsCertificate.path, data.appendingPathComponent("server.crt").path])
            try run("/bin/chmod", ["600", data.appendingPathComponent("server.key").path])
            let settings = try FileHandle(forWritingTo: data.appendingPathComponent("postgresql.conf"))
            settings.seekToEndOfFile()
            settings.write(Data("\nssl = on\n".utf8))
            try settings.close()
            try Data("""
                local all all trust
                hostssl all all 127.0.0.1/32 scram-sha-256
                hostnossl all all 127.0.0.1/32 reject
                """.utf8).write(to: data.appendingPathComponent("pg_hba.conf"))
        }
        if getuid() == 0 { try run("/bin/chown", ["-R", "postgres:postgres", folder.url.path]) }
        try start()
    }

    deinit { stop() }

    /// Starts (again, after `stop`) on the same port and data.
    public func start() throws {
        guard let binaries = Self.binaries else { throw PostgresError.notInstalled }
        let arguments = ["-D", data.path, "-p", String(port), "-c", "listen_addresses=127.0.0.1", "-k", folder.url.path,
                         "-c", "fsync=\(durable ? "on" : "off")", "-c", "max_connections=200", "-c", "shared_buffers=32MB"]
        pid = try Self.spawnAsPostgres("\(binaries)/postgres", arguments, output: log)
        let ready = FileWatch.wait(in: data, timeout: 20) {
            ((try? String(contentsOf: data.appendingPathComponent("postmaster.pid"), encoding: .utf8)) ?? "").contains("ready") || !Spawn.isRunning(pid)
        }
        guard ready, Spawn.isRunning(pid) else {
            stop()
            throw PostgresError.failed("postgres did not start: \((try? String(contentsOf: log, encoding: .utf8)) ?? "no log")")
        }
    }

    /// Fast shutdown (SIGINT): sessions are ended, nothing committed is lost.
    public func stop() {
        guard pid > 0 else { return }
        Spawn.stop(pid, signal: SIGINT)
        pid = 0
    }

    public var isRunning: Bool { Spawn.isRunning(pid) }

    /// The postmaster's process (its backends are its children); 0 when stopped.
    public var processID: pid_t { pid }

    /// A new empty database, and the store URL that names it (no password in it: give
    /// `environment` to processes, or `PGPASSWORD`).
    public func createDatabase(_ name: String = "store_\(UUID().uuidString.prefix(8).lowercased())") throws -> String {
        guard let binaries = Self.binaries else { throw PostgresError.notInstalled }
        try run("\(binaries)/psql", ["-h", "127.0.0.1", "-p", String(port), "-U", Self.user, "-d", "postgres", "-v", "ON_ERROR_STOP=1",
                                     "-c", "CREATE DATABASE \(name)"], environment: environment)
        return url(name)
    }

    public func url(_ database: String) -> String { "postgres://\(Self.user)@127.0.0.1:\(port)/\(database)?sslmode=disable" }

    /// What a process needs to log in.
    public var environment: [String: String] {
        ["PGPASSWORD": Self.password, "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]
    }

    /// The location a library test opens, with its password and a node folder of its own.
    public func location(_ url: String, node: URL) throws -> StoreLocation {
        try StoreLocation(url, nodeFolder: node.path, environment: ["PGPASSWORD": Self.password])
    }

    /// Runs SQL with psql against `database`; its output.
    @discardableResult
    public func psql(_ database: String, _ sql: String) throws -> String {
        guard let binaries = Self.binaries else { throw PostgresError.notInstalled }
        return try run("\(binaries)/psql", ["-h", "127.0.0.1", "-p", String(port), "-U", Self.user, "-d", database, "-At",
                                            "-v", "ON_ERROR_STOP=1", "-c", sql], environment: environment)
    }

    @discardableResult
    private func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws -> String {
        let result = try ProcessRunner.run(executable, arguments, environment: environment, timeout: 60)
        guard result.succeeded else { throw PostgresError.failed("\(executable) \(arguments.joined(separator: " ")): \(result.stderr)") }
        return result.stdout
    }

    // MARK: The per-process template cluster

    private static let made = Mutex<URL?>(nil)

    /// `initdb` once per test process (a second or so); each server copies it.
    private static func template(_ binaries: String) throws -> URL {
        try made.withLock { made in
            if let made { return made }
            let root = FileManager.default.temporaryDirectory.appendingPathComponent("iotca-pg-template-\(getpid())")
            try? FileManager.default.removeItem(at: root)
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
            let passwordFile = root.appendingPathComponent("password")
            try Data(password.utf8).write(to: passwordFile)
            if getuid() == 0 {
                let result = try ProcessRunner.run("/bin/chown", ["-R", "postgres:postgres", root.path])
                guard result.succeeded else { throw PostgresError.failed(result.stderr) }
            }
            let data = root.appendingPathComponent("data")
            let pid = try spawnAsPostgres("\(binaries)/initdb", ["-D", data.path, "-U", user, "--auth=scram-sha-256",
                                                                 "--pwfile=\(passwordFile.path)", "-E", "UTF8", "--locale=C", "-N"],
                                          output: root.appendingPathComponent("initdb.log"))
            // Signal 0 sends nothing: this waits for initdb and reads its exit status.
            guard Spawn.stop(pid, signal: 0) == 0 else {
                throw PostgresError.failed("initdb failed: \((try? String(contentsOf: root.appendingPathComponent("initdb.log"), encoding: .utf8)) ?? "")")
            }
            atexit { try? FileManager.default.removeItem(at: FileManager.default.temporaryDirectory.appendingPathComponent("iotca-pg-template-\(getpid())")) }
            made = data
            return data
        }
    }

    /// As the user `postgres` when running as root (setpriv execs the program: the PID is its own).
    /// Its messages (PostgreSQL writes its log to stderr) go to `output`.
    private static func spawnAsPostgres(_ program: String, _ arguments: [String], output: URL) throws -> pid_t {
        let environment = ["PATH": "/usr/bin:/bin", "LC_ALL": "C"]
        if getuid() == 0 {
            return try Spawn.start("/usr/bin/setpriv", ["--reuid=postgres", "--regid=postgres", "--clear-groups", program] + arguments,
                                   environment: environment, stderr: output)
        }
        return try Spawn.start(program, arguments, environment: environment, stderr: output)
    }
}
