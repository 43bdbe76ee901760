import ArgumentParser
import AsyncHTTPClient
import Crypto
import Foundation
import IoTCAKit
import IoTCAService
import NIOCore
import NIOHTTP1
import SwiftASN1
import TestSupport
import X509

/// `iotca serve` under load: concurrent keep-alive clients over mutual TLS issuing from CSRs and
/// with generated keys, at several connection counts; beside `cfssl serve` signing the same CSRs
/// (plain HTTP; mutual TLS; mutual TLS recording in its SQLite database) and the crypto limit from `openssl speed`, all in the same run.
struct ServeBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Issuances per second and p50/p99 latency of iotca serve at 1, 8 and 32 connections, beside cfssl serve.")

    @Option(help: "Requests per mode and connection count.") var count = 10_000
    @Option(help: "Connection counts (repeatable).") var connections: [Int] = [1, 8, 32]
    @Option(help: "Folder for the store (default: a temporary folder, removed afterwards); put it on the disk you deploy on.")
    var folder: String?
    @Flag(help: "Skip cfssl even when it is installed.") var noCfssl = false
    @Option(help: "The server's worker threads (default: its own default).") var workers: Int?
    @Flag(help: "Call as a station granted device:* instead of an operator: every issuance passes the grant checks.") var station = false

    func run() async throws {
        let root = folder.map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("iotca-serve-bench-\(UUID().uuidString)")
        defer { if folder == nil { try? FileManager.default.removeItem(at: root) } }
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let bench = try BenchStore(in: root)
        let (store, authority, clients, passphrase) = (bench.store, bench.authority, bench.clients, BenchStore.passphrase)
        let (server, api, _) = try bench.serve(workers.map { ["--workers", String($0)] } ?? [])
        defer { server.stop() }

        print("Making \(count) CSRs...")
        let csrs = try (0..<count).map { _ in try Self.csr() }
        let maxConnections = connections.max() ?? 1
        let client = try bench.client(api, connections: maxConnections, station: station)
        // Request bodies made before the clock starts, and answers checked by status only: the
        // load generator shares the cores with the server, so it does as little as it can (the
        // same for cfssl below).
        func body(_ object: [String: String]) throws -> [UInt8] { Array(try JSONSerialization.data(withJSONObject: object)) }
        var rows: [(String, Int, Measurement)] = []
        for connections in connections {
            // The floor: TLS, HTTP, routing and the client check, with no issuance.
            let floor = try await Self.load(count: count, connections: connections, server: server) { _ in
                try Self.expect(200, try await client.exchange(.GET, "/v1/whoami", json: nil).status, "iotca")
            }
            rows.append(("iotca serve, no-op: GET /v1/whoami (mTLS, client checked)", connections, floor))
            let csrBodies = try (0..<count).map { try body(["thing": "csr-\(connections)-\($0)", "csr": csrs[$0]]) }
            let csrRun = try await Self.load(count: count, connections: connections, server: server) { index in
                try Self.expect(201, try await client.exchange(.POST, "/v1/certificates", json: csrBodies[index]).status, "iotca")
            }
            rows.append(("iotca serve, CSR (mTLS, recorded)", connections, csrRun))
            let keyBodies = try (0..<count).map { try body(["thing": "key-\(connections)-\($0)"]) }
            let keyRun = try await Self.load(count: count, connections: connections, server: server) { index in
                try Self.expect(201, try await client.exchange(.POST, "/v1/certificates", json: keyBodies[index]).status, "iotca")
            }
            rows.append(("iotca serve, generated key (mTLS, recorded)", connections, keyRun))
        }
        await client.shutdown()

        if !noCfssl, let cfssl = Self.which("cfssl") {
            let keyFile = root.appendingPathComponent("issuing.key"), certFile = root.appendingPathComponent("issuing.pem")
            let issuing = try authority.authority(named: "issuing")
            try Data(try issuing.certificate().serializeAsPEM().pemString.utf8).write(to: certFile)
            _ = try Self.shell(["openssl", "pkey", "-in", store.path + "/" + issuing.keyFile, "-passin", "pass:\(passphrase)", "-out", keyFile.path])
            let bodies = try csrs.map { try body(["certificate_request": $0]) }
            // Plain HTTP as cfssl is usually run, then behind the same mutual TLS as iotca's API
            // (iotca's server certificate and chain; clients checked against the store's CAs).
            let serverFolder = store.appendingPathComponent("serve/localhost")
            let tlsChain = root.appendingPathComponent("cfssl-tls.pem"), clientCAs = root.appendingPathComponent("cfssl-client-cas.pem")
            try (Data(contentsOf: serverFolder.appendingPathComponent("cert.pem")) + Data(contentsOf: serverFolder.appendingPathComponent("chain.pem")))
                .write(to: tlsChain)
            // The clients' CA (`service`, which the client does not send) beside the roots: Go
            // builds the client's chain from this pool alone.
            try (Data(contentsOf: certFile) + Data("\n".utf8) + Data(contentsOf: serverFolder.appendingPathComponent("chain.pem"))
                 + Data(contentsOf: serverFolder.appendingPathComponent("root.pem"))).write(to: clientCAs)
            // Last, cfssl recording what it signs in its own SQLite database, as iotca records.
            for (mutualTLS, recording) in [(false, false), (true, false), (true, true)] {
                let port = 18_888 + Int.random(in: 0..<1000)
                let tls = mutualTLS ? ["-tls-cert", tlsChain.path, "-tls-key", serverFolder.appendingPathComponent("key.pem").path,
                                       "-mutual-tls-ca", clientCAs.path] : []
                let certDB = recording ? try CfsslCertDB(in: root) : nil
                let database = certDB.map { ["-db-config", $0.config.path] } ?? []
                let cfsslServer = try BenchServer(cfssl, arguments: ["serve", "-address", "127.0.0.1", "-port", String(port),
                                                                     "-ca", certFile.path, "-ca-key", keyFile.path] + tls + database,
                                                  environment: [:], folder: root, ready: "Now listening", onStderr: true)
                defer { cfsslServer.stop() }
                let http = try APIClient(.init(url: "\(mutualTLS ? "https" : "http")://127.0.0.1:\(port)", clientCertificate: clients.path + "/bench/cert.pem",
                                               clientKey: clients.path + "/bench/key.pem", serverCA: clients.path + "/bench/root.pem"),
                                         connections: maxConnections, requireHTTPS: false)
                for connections in connections {
                    let run = try await Self.load(count: count, connections: connections, server: cfsslServer) { index in
                        try Self.expect(200, try await http.exchange(.POST, "/api/v1/cfssl/sign", json: bodies[index]).status, "cfssl")
                    }
                    let name = recording ? "cfssl serve, CSR (mTLS, recorded in its SQLite certdb)"
                        : mutualTLS ? "cfssl serve, CSR (mTLS, no database)" : "cfssl serve, CSR (plain HTTP, no database)"
                    rows.append((name, connections, run))
                }
                await http.shutdown()
                if let certDB, try certDB.recorded() < count * connections.count {
                    throw ValidationError("cfssl answered more certificates than it recorded in \(certDB.database.path)")
                }
            }
        }

        let limit = Self.cryptoLimit(folder: root)
        print("\niotca serve on this machine (\(ProcessInfo.processInfo.activeProcessorCount) cores), \(count) requests each, \(Self.today()):")
        print("| server, request | connections | issuances/s | p50 ms | p99 ms | server CPU ms/request |")
        print("|---|---|---|---|---|---|")
        for (name, connections, measurement) in rows {
            print(String(format: "| %@ | %d | %.0f | %.2f | %.2f | %@ |", name, connections, measurement.rate, measurement.p50, measurement.p99,
                         measurement.cpuText))
        }
        if let limit {
            print(String(format: "| crypto limit: CSR signature check + signing, all cores (openssl speed ecdsap256) | - | %.0f | - | - | - |", limit))
        }
    }

    struct Measurement {
        let rate: Double
        let p50: Double
        let p99: Double
        /// The server's CPU time (user and system, its worker processes included) per request,
        /// in milliseconds: comparable across runs on a noisy machine, where rates are not.
        var cpuPerRequest: Double?

        /// "0.42" or "-" when the server's CPU was not read.
        var cpuText: String { cpuPerRequest.map { String(format: "%.3f", $0) } ?? "-" }
    }

    /// `count` calls of `body`, `connections` at a time; rate and latency percentiles, and with
    /// `server` its CPU time per request (read from /proc before and after).
    static func load(count: Int, connections: Int, server: BenchServer? = nil,
                     _ body: @escaping @Sendable (Int) async throws -> Void) async throws -> Measurement {
        let clock = ContinuousClock()
        let cpuBefore = server?.cpuSeconds()
        let started = clock.now
        let latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
            for lane in 0..<connections {
                group.addTask {
                    var mine: [Double] = []
                    var index = lane
                    while index < count {
                        let start = clock.now
                        try await body(index)
                        let elapsed = clock.now - start
                        mine.append(Double(elapsed.components.seconds) * 1e3 + Double(elapsed.components.attoseconds) / 1e15)
                        index += connections
                    }
                    return mine
                }
            }
            var all: [Double] = []
            for try await lane in group { all += lane }
            return all.sorted()
        }
        let elapsed = clock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        func percentile(_ p: Double) -> Double { latencies.isEmpty ? 0 : latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))] }
        let cpuAfter = server?.cpuSeconds()
        let cpu: Double? = if let cpuBefore, let cpuAfter { (cpuAfter - cpuBefore) * 1e3 / Double(count) } else { nil }
        return Measurement(rate: Double(count) / seconds, p50: percentile(0.5), p99: percentile(0.99), cpuPerRequest: cpu)
    }

    static func expect(_ wanted: Int, _ status: Int, _ server: String) throws {
        guard status == wanted else { throw ValidationError("\(server) answered \(status), not \(wanted)") }
    }

    /// A P-256 CSR in PEM, as a device would send.
    static func csr() throws -> String {
        let key = P256.Signing.PrivateKey()
        let request = try CertificateSigningRequest(
            version: .v1, subject: try DistinguishedName { CommonName("bench") }, privateKey: .init(key), attributes: .init(),
            signatureAlgorithm: .ecdsaWithSHA256)
        return try request.serializeAsPEM().pemString
    }

    /// Issuances per second the crypto allows on all cores: one ECDSA verify (the CSR) and one
    /// sign (the certificate) each, from `openssl speed -multi`.
    static func cryptoLimit(folder: URL) -> Double? {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        // Spawned with an empty signal mask: openssl speed stops each test with SIGALRM, which a
        // child of a Swift worker thread would otherwise inherit blocked (and run forever).
        let output = folder.appendingPathComponent("speed.out")
        guard let pid = try? Spawn.start("/usr/bin/openssl", ["speed", "-seconds", "2", "-multi", String(cores), "ecdsap256"], stdout: output),
              Spawn.stop(pid, signal: 0) == 0, let text = try? String(contentsOf: output, encoding: .utf8),
              let line = text.split(separator: "\n").last(where: { $0.contains("ecdsa (nistp256)") }) else { return nil }
        let fields = line.split(separator: " ").compactMap { Double($0) }
        guard fields.count >= 3 else { return nil }  // 256, sign/s, verify/s (the times end in "s")
        let (signs, verifies) = (fields[fields.count - 2], fields[fields.count - 1])
        return 1 / (1 / signs + 1 / verifies)
    }

    static func which(_ name: String) -> String? {
        ["/usr/bin/", "/usr/local/bin/"].map { $0 + name }.first(where: FileManager.default.isExecutableFile(atPath:))
    }

    @discardableResult
    static func shell(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    static func today() -> String { String(Timestamp.format(Date()).prefix(10)) }
}

/// A server process for the benchmark: spawned with a clean signal mask, awaited until it
/// prints `ready` (woken by its output file, 60 s at most), stopped with SIGTERM.
final class BenchServer: @unchecked Sendable {
    private var pid: pid_t = 0
    private(set) var line = ""
    /// Where its output goes.
    let output: URL

    /// `openssl ocsp -multi` ignores SIGTERM and leaves its worker processes behind: it is
    /// stopped with SIGKILL, its children first.
    private let forceful: Bool

    init(_ executable: String, arguments: [String], environment: [String: String], folder: URL, ready: String,
         onStderr: Bool = false, forceful: Bool = false) throws {
        self.forceful = forceful
        let output = folder.appendingPathComponent("\(URL(fileURLWithPath: executable).lastPathComponent)-\(UUID().uuidString).out")
        self.output = output
        let merged = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        pid = try Spawn.start(executable, arguments, environment: merged, stdout: onStderr ? nil : output, stderr: onStderr ? output : nil)
        func found() -> String? {
            ((try? String(contentsOf: output, encoding: .utf8)) ?? "").split(separator: "\n").first { $0.contains(ready) }.map(String.init)
        }
        _ = FileWatch.wait(in: folder, timeout: 60) { found() != nil }
        guard let first = found() else {
            stop()
            throw ValidationError("\(executable) did not print \"\(ready)\": \((try? String(contentsOf: output, encoding: .utf8)) ?? "")")
        }
        line = first
    }

    /// User and system CPU seconds of the server and its direct children (`openssl ocsp -multi`
    /// answers in worker processes).
    func cpuSeconds() -> Double { ProcessCPU.seconds(pid) }

    var processID: pid_t { pid }

    func stop() {
        guard pid > 0 else { return }
        if forceful { _ = try? ServeBench.shell(["pkill", "-KILL", "-P", String(pid)]) }
        _ = Spawn.stop(pid, signal: forceful ? SIGKILL : SIGTERM)
        pid = 0
    }
}
