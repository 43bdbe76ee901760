import ArgumentParser
import Foundation
import IoTCAKit
import IoTCAService
import TestSupport

/// Issuances per second through `iotca serve` on the embedded store and on a shared
/// PostgreSQL one, in the same run: one node on SQLite, one node on PostgreSQL, two nodes on
/// the same PostgreSQL database (the clients split between them). The difference at one
/// connection is what the shared record costs each issuance.
struct SharedStoreBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "shared",
        abstract: "iotca serve on SQLite beside one and two nodes on one PostgreSQL database: issuances/s and latency.")

    @Option(help: "CSR issuances per mode and connection count.") var count = 4_000
    @Option(help: "Connection counts (repeatable), split evenly between the nodes.") var connections: [Int] = [1, 16]
    @Option(help: "An empty PostgreSQL database to use (postgres://...; password from PGPASSWORD); default: a throwaway cluster on this machine, fsync on.")
    var postgres: String?
    @Option(help: "Each server's worker threads.") var workers = 8
    @Option(help: ArgumentHelp("A database in another rack: a relay between the nodes and the throwaway cluster holds each direction's bytes back this long (e.g. 1ms).", valueName: "DURATION"))
    var dbLatency: String?

    func validate() throws {
        if dbLatency != nil && postgres != nil { throw ValidationError("--db-latency relays to the throwaway cluster: leave out --postgres") }
        if let dbLatency, Self.milliseconds(dbLatency) == nil { throw ValidationError("--db-latency takes milliseconds, e.g. 1ms or 0.5ms") }
    }

    static func milliseconds(_ text: String) -> Double? {
        guard text.hasSuffix("ms"), let value = Double(text.dropLast(2)), value >= 0 else { return nil }
        return value
    }

    func run() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("iotca-shared-bench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        print("Making \(count) CSRs...")
        let csrs = try (0..<count).map { _ in try ServeBench.csr() }
        // Request bodies made before the clock starts (the load generator shares the cores).
        func bodies(_ prefix: String) throws -> [[UInt8]] {
            try (0..<count).map { Array(try JSONSerialization.data(withJSONObject: ["thing": "\(prefix)-\($0)", "csr": csrs[$0]])) }
        }

        // The embedded store, one node.
        let embedded = try BenchStore(in: root.appendingPathComponent("sqlite"))
        let (sqliteServer, sqliteAPI, _) = try embedded.serve(["--workers", String(workers)])
        defer { sqliteServer.stop() }

        // The shared store: a database on a server of its own unless one is given.
        let cluster = postgres == nil ? try PostgresServer(durable: true) : nil
        let direct = try postgres ?? (try cluster?.createDatabase() ?? "")
        // With --db-latency every node and this process reach the database through a relay:
        // each statement pays the added latency twice (there and back), as across racks.
        // Only when asked: the relay's copying costs CPU the nodes share (0ms counts round trips).
        let relay: PostgresRelay?
        if let cluster, let latency = dbLatency.flatMap(Self.milliseconds) {
            let seconds = latency / 1000
            let hold: (@Sendable () -> Void)? = seconds > 0 ? { @Sendable () -> Void in Thread.sleep(forTimeInterval: seconds) } : nil
            relay = try PostgresRelay(to: cluster.port, hold: hold)
        } else {
            relay = nil
        }
        defer { relay?.stop() }
        let url = relay?.url(direct) ?? direct
        var environment = ProcessInfo.processInfo.environment
        if let cluster { environment["PGPASSWORD"] = PostgresServer.password }
        let location = try StoreLocation(url, nodeFolder: root.appendingPathComponent("node-0").path, environment: environment)
        _ = try StoreInitializer.initialize(at: location, options: .init(passphrase: Passphrase(BenchStore.passphrase)))
        let shared = try CertificateAuthority(store: location, passphrase: .fixed(Passphrase(BenchStore.passphrase)))
        let clients = root.appendingPathComponent("shared-clients")
        _ = try shared.createClient("bench", role: .operator, grants: [], into: clients)
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("iotca").path
        var nodes: [(server: BenchServer, api: String)] = []
        defer { nodes.forEach { $0.server.stop() } }
        for index in 1...2 {
            let folder = root.appendingPathComponent("node-\(index)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            var nodeEnvironment = ["IOTCA_PASSPHRASE": BenchStore.passphrase, "IOTCA_NODE_DIR": folder.path]
            nodeEnvironment["PGPASSWORD"] = environment["PGPASSWORD"]
            let server = try BenchServer(binary, arguments: ["serve", "--store", url, "--api-listen", "127.0.0.1:0", "--public-listen", "127.0.0.1:0",
                                                             "--log-level", "error", "--workers", String(workers)],
                                         environment: nodeEnvironment, folder: folder, ready: "public listening on ")
            let output = (try? String(contentsOf: server.output, encoding: .utf8)) ?? ""
            let api = output.split(separator: "\n").first { $0.hasPrefix("api listening on ") }.map { String($0.dropFirst("api listening on ".count)) } ?? ""
            nodes.append((server, api))
        }
        func client(_ api: String, _ folder: URL, connections: Int) throws -> APIClient {
            try APIClient(.init(url: api, clientCertificate: folder.path + "/bench/cert.pem", clientKey: folder.path + "/bench/key.pem",
                                serverCA: folder.path + "/bench/root.pem"), connections: max(1, connections))
        }

        var rows: [(String, Int, ServeBench.Measurement)] = []
        var busy: [Double?] = []
        var perIssuance: [(node: Double, database: Double?)] = []
        let database = cluster?.processID
        /// One row's load, with how busy the machine's cores were meanwhile and the CPU per
        /// issuance of the nodes that served it and of PostgreSQL (its backends included).
        func load(connections: Int, servers: [BenchServer], shared: Bool,
                  _ body: @escaping @Sendable (Int) async throws -> Void) async throws -> ServeBench.Measurement {
            let pids = servers.map(\.processID)
            let before = MachineCPU.now()
            let nodeBefore = ProcessCPU.seconds(pids), databaseBefore = database.map(ProcessCPU.seconds)
            let run = try await ServeBench.load(count: count, connections: connections, body)
            let nodeAfter = ProcessCPU.seconds(pids), databaseAfter = database.map(ProcessCPU.seconds)
            busy.append(before.flatMap { start in MachineCPU.now()?.busyPercent(since: start) })
            let perRequest = { (seconds: Double) in seconds * 1e3 / Double(count) }
            let databaseCPU: Double? = if shared, let databaseBefore, let databaseAfter { perRequest(databaseAfter - databaseBefore) } else { nil }
            perIssuance.append((perRequest(nodeAfter - nodeBefore), databaseCPU))
            return run
        }
        var tripsPerIssuance: [Int: Double] = [:]
        var lockWaits: [Int: LockSampler.Summary] = [:]
        for connections in connections {
            let sqliteClient = try client(sqliteAPI, embedded.clients, connections: connections)
            let sqliteBodies = try bodies("s-\(connections)")
            let sqliteRun = try await load(connections: connections, servers: [sqliteServer], shared: false) { index in
                try ServeBench.expect(201, try await sqliteClient.exchange(.POST, "/v1/certificates", json: sqliteBodies[index]).status, "sqlite node")
            }
            await sqliteClient.shutdown()
            rows.append(("one node, SQLite (embedded)", connections, sqliteRun))

            let one = try client(nodes[0].api, clients, connections: connections)
            let oneBodies = try bodies("p1-\(connections)")
            let tripsBefore = relay?.roundTrips ?? 0
            let oneRun = try await load(connections: connections, servers: [nodes[0].server], shared: true) { index in
                try ServeBench.expect(201, try await one.exchange(.POST, "/v1/certificates", json: oneBodies[index]).status, "node 1")
            }
            await one.shutdown()
            rows.append(("one node, PostgreSQL", connections, oneRun))
            if let relay { tripsPerIssuance[connections] = Double(relay.roundTrips - tripsBefore) / Double(count) }

            // Two nodes: each connection talks to one of them, alternately.
            guard connections >= 2 else { continue }
            let both = try nodes.map { try client($0.api, clients, connections: connections / 2) }
            let twoBodies = try bodies("p2-\(connections)")
            let sampler = cluster.map { LockSampler($0, database: LockSampler.databaseName(direct)) }
            let twoRun = try await load(connections: connections, servers: nodes.map(\.server), shared: true) { index in
                try ServeBench.expect(201, try await both[index % 2].exchange(.POST, "/v1/certificates", json: twoBodies[index]).status, "node \(index % 2 + 1)")
            }
            if let summary = sampler?.stop() { lockWaits[connections] = summary }
            for node in both { await node.shutdown() }
            rows.append(("two nodes, one PostgreSQL", connections, twoRun))
        }
        // One read of one row, alone: the price of a statement through each engine.
        func perRead(_ store: Store) throws -> Double {
            let clock = ContinuousClock(), started = clock.now
            for _ in 0..<2_000 { _ = try store.setting("organization") }
            let elapsed = clock.now - started
            return (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18) / 2_000 * 1e3
        }
        let readSQLite = try perRead(embedded.authority.store), readPostgres = try perRead(shared.store)
        let check = try shared.doctor()
        let findings = check.findings
        print("\nShared store on this machine (\(ProcessInfo.processInfo.activeProcessorCount) cores; nodes, database and load generator share them), "
              + "\(count) CSR issuances per row, \(ServeBench.today()):")
        print("| store, nodes | connections | issuances/s | p50 ms | p99 ms | machine's cores busy | CPU ms/issuance: nodes, PostgreSQL |")
        print("|---|---|---|---|---|---|---|")
        for (((name, connections, measurement), busy), cpu) in zip(zip(rows, busy), perIssuance) {
            let cpuText = String(format: "%.3f, ", cpu.node) + (cpu.database.map { String(format: "%.3f", $0) } ?? "-")
            print(String(format: "| %@ | %d | %.0f | %.2f | %.2f | %@ | %@ |", name, connections, measurement.rate, measurement.p50, measurement.p99,
                         busy.map { String(format: "%.0f%%", $0) } ?? "-", cpuText))
        }
        if let sqlite = rows.first(where: { $0.0.contains("SQLite") && $0.1 == 1 })?.2, let pg = rows.first(where: { $0.0 == "one node, PostgreSQL" && $0.1 == 1 })?.2 {
            print(String(format: "Cost of the shared record per issuance (p50 at one connection, PostgreSQL minus SQLite): %.2f ms", pg.p50 - sqlite.p50))
        }
        print(String(format: "One-row read through the store, alone: SQLite %.3f ms, PostgreSQL %.3f ms", readSQLite, readPostgres))
        if let dbLatency { print("Added latency between the nodes and PostgreSQL: \(dbLatency) each way (a relay on 127.0.0.1)") }
        for (connections, summary) in lockWaits.sorted(by: { $0.key < $1.key }) where summary.samples > 0 {
            print(String(format: "Advisory locks, two nodes at %d connections (pg_locks every 20 ms, %d samples): %.2f sessions waiting on average, at most %d; %.2f held",
                         connections, summary.samples, Double(summary.waiting) / Double(summary.samples), summary.maximum,
                         Double(summary.held) / Double(summary.samples)))
        }
        for (connections, trips) in tripsPerIssuance.sorted(by: { $0.key < $1.key }) {
            print(String(format: "Round trips to PostgreSQL per CSR issuance, one node at %d connections (counted on the wire; group commits share theirs): %.1f", connections, trips))
        }
        print("doctor on the shared store afterwards: \(check.certificates) certificates, \(findings.isEmpty ? "no problems" : "\(findings.count) problems: \(findings.prefix(3))")")
    }
}
