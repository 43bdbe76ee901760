import Foundation
@testable import IoTCAKit
import Testing
import TestSupport

/// Several `iotca serve` nodes on one PostgreSQL database, as real processes: clients issuing
/// through both at once, a node killed with SIGKILL mid-run, revocations and CRL publications
/// through both, and the database itself stopped under load.
@Suite(.serialized) struct MultiNodeTests {
    final class Cluster: @unchecked Sendable {
        let store: TemporaryStore
        let authority: CertificateAuthority
        let clients: URL
        var nodes: [String: ServiceProcess] = [:]

        init() throws {
            store = try TemporaryStore(backend: .postgres)
            authority = CertificateAuthority(keyring: store.keyring)
            clients = store.folder.appending("clients")
            _ = try authority.createClient("line1", role: .station, grants: [try ClientGrant(parsing: "device:line1-*")], into: clients)
            _ = try authority.createClient("alice", role: .operator, grants: [], into: clients)
        }

        /// Node `name`, with a node folder of its own, on the shared database.
        @discardableResult
        func start(_ name: String) throws -> ServiceProcess {
            let folder = store.folder.appending(name)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            var environment = store.processEnvironment
            environment["IOTCA_NODE_DIR"] = folder.path
            let node = try ServiceProcess(store: store.storeArgument, environment: environment, arguments: ["--workers", "4"], folder: folder)
            nodes[name] = node
            return node
        }

        /// A CLI working through node `name` as `client`.
        func remote(_ name: String, as client: String) -> [String: String] {
            let folder = clients.appendingPathComponent(client)
            return [
                "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "IOTCA_SERVER": nodes[name]?.apiURL ?? "",
                "IOTCA_CLIENT_CERT": folder.path + "/cert.pem", "IOTCA_CLIENT_KEY": folder.path + "/key.pem",
                "IOTCA_SERVER_CA": folder.path + "/root.pem",
            ]
        }

        /// curl through node `name` as `client`: the HTTP status and body.
        func call(_ name: String, _ path: String, as client: String, json: String? = nil) throws -> (status: Int, body: String) {
            let folder = clients.appendingPathComponent(client)
            var arguments = ["-sS", "--cacert", folder.path + "/root.pem", "--cert", folder.path + "/cert.pem", "--key", folder.path + "/key.pem",
                             "-w", "\n%{http_code}"]
            if let json { arguments += ["-H", "content-type: application/json", "--data-binary", json] }
            let result = try ProcessRunner.run("curl", arguments + [(nodes[name]?.apiURL ?? "") + path], timeout: 30)
            var lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
            return (Int(lines.removeLast()) ?? 0, lines.joined(separator: "\n"))
        }

        /// Doctor's findings but the fixture's fast test KDF.
        func findings() throws -> [Finding] { try authority.doctor().findings.filter { $0.check != "kdf" } }
    }

    @Test func twoNodesKeepEveryInvariantThroughAKill() throws {
        let cluster = try Cluster()
        try cluster.start("node-a")
        try cluster.start("node-b")
        let work = cluster.store.folder.url
        // Four clients, two per node; each pair shares its things, so the nodes contest them.
        let shared = (1...300).map { String(format: "line1-%04d", $0) }
        try Data((["thing"] + shared).joined(separator: "\n").utf8).write(to: work.appendingPathComponent("rows.csv"))
        var clients: [(node: String, pid: pid_t, out: URL)] = []
        for (index, node) in ["node-a", "node-a", "node-b", "node-b"].enumerated() {
            let out = work.appendingPathComponent("out-\(index)")
            try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
            let pid = try Spawn.start(ProcessRunner.iotcaExecutable, ["batch", work.path + "/rows.csv", "--out", out.path, "--jobs", "4"],
                                      environment: cluster.remote(node, as: "line1"), stdout: work.appendingPathComponent("client-\(index).out"),
                                      stderr: work.appendingPathComponent("client-\(index).err"))
            clients.append((node, pid, out))
        }
        // Kill node A once its clients have bundles on disk (woken by the folders' events).
        let started = FileWatch.wait(in: clients[0].out, timeout: 60) {
            ((try? FileManager.default.contentsOfDirectory(atPath: clients[0].out.path)) ?? []).filter { !$0.hasPrefix(".") }.count >= 10
        }
        #expect(started)
        #expect(cluster.nodes["node-a"]?.stop(signal: SIGKILL) == 128 + SIGKILL)
        var statuses: [Int32] = []
        for client in clients { statuses.append(Spawn.stop(client.pid, signal: 0)) }
        // Node B's clients finish (rows another client won are skipped, not failures); node A's
        // were cut off mid-run (exit 6: the server is unreachable).
        #expect(statuses[2] == 0 && statuses[3] == 0 && statuses.prefix(2).contains(6), "\(statuses)")
        // Restart A; its clients run again and finish.
        try cluster.start("node-a")
        for client in clients.prefix(2) {
            let rerun = try ProcessRunner.run(ProcessRunner.iotcaExecutable, ["batch", work.path + "/rows.csv", "--out", client.out.path],
                                              environment: cluster.remote("node-a", as: "line1"))
            #expect(rerun.succeeded, "\(rerun.stdout)\(rerun.stderr)")
        }
        // Revocations and CRL publications through both nodes.
        #expect(try cluster.call("node-a", "/v1/things/line1-0001/revoke", as: "alice", json: #"{"reason":"key-compromise"}"#).status == 200)
        #expect(try cluster.call("node-b", "/v1/things/line1-0002/revoke", as: "alice", json: #"{"reason":"superseded"}"#).status == 200)
        for node in ["node-a", "node-b", "node-a", "node-b"] {
            let published = try cluster.call(node, "/v1/crls", as: "alice", json: "{}")
            #expect(published.status == 200, "\(published.body)")
        }
        let store = cluster.store.store
        // One active certificate per thing, each serial once, every bundle a client holds recorded.
        let active = try store.certificates(CertificateFilter(status: .active)).filter { shared.contains($0.thing ?? "") }
        #expect(active.count == 298 && Set(active.compactMap(\.thing)).count == 298)
        var everything = CertificateFilter()
        everything.includeAuthorities = true
        let all = try store.certificates(everything)
        #expect(Set(all.map { "\($0.authority)/\($0.serial.hex)" }).count == all.count)
        let recorded = Set(all.map(\.pem))
        var bundles = 0
        for client in clients {
            for thing in (try FileManager.default.contentsOfDirectory(atPath: client.out.path)) where !thing.hasPrefix(".") {
                let pem = try String(contentsOf: client.out.appendingPathComponent("\(thing)/cert.pem"), encoding: .utf8)
                #expect(recorded.contains(pem), "\(thing)'s bundle is not in the store")
                bundles += 1
            }
        }
        #expect(bundles >= 300)
        // CRL numbers strictly increase, whoever published; the newest CRL lists both revocations.
        for (name, crls) in try store.crlNumbersInOrder() {
            #expect(crls.map(\.number) == Array(1...Int64(crls.count)), "\(name)")
        }
        let (_, der) = try #require(try store.latestCRLDER(of: "issuing"))
        let file = work.appendingPathComponent("issuing.crl")
        try Data(der).write(to: file)
        let text = try OpenSSLCLI.run(["crl", "-inform", "DER", "-in", file.path, "-noout", "-text"]).stdout
        for thing in ["line1-0001", "line1-0002"] {
            let serial = try #require(try store.certificates(CertificateFilter(thing: thing, status: .revoked)).first).serial.hex.uppercased()
            #expect(text.contains(serial))
        }
        // Each node serves the newest CRL from the database, whichever node made it.
        for name in ["node-a", "node-b"] {
            let file = work.appendingPathComponent("\(name).crl")
            let url = try #require(cluster.nodes[name]).publicURL + "/issuing.crl"
            #expect(try ProcessRunner.run("curl", ["-sS", "-f", "-o", file.path, url]).succeeded)
            #expect(Array(try Data(contentsOf: file)) == der, "\(name)")
        }
        // Each node answers OCSP from the database (its reads on the workers: a round trip each).
        let issuerFile = work.appendingPathComponent("issuing.pem"), rootFile = work.appendingPathComponent("root.pem")
        try Data(IssuedCertificate.pem(try #require(try store.authority(named: "issuing").certificateDER)).utf8).write(to: issuerFile)
        try Data(IssuedCertificate.pem(try #require(try store.authority(named: "root").certificateDER)).utf8).write(to: rootFile)
        for (thing, status) in [("line1-0001", "revoked"), ("line1-0003", "good")] {
            let entry = try #require(try store.certificates(CertificateFilter(thing: thing)).first)
            let certificate = work.appendingPathComponent("\(thing).pem")
            try Data(entry.pem.utf8).write(to: certificate)
            for name in ["node-a", "node-b"] {
                let url = try #require(cluster.nodes[name]).publicURL + "/ocsp"
                let answer = try OpenSSLCLI.run(["ocsp", "-issuer", issuerFile.path, "-cert", certificate.path, "-url", url,
                                                 "-CAfile", rootFile.path, "-verify_other", issuerFile.path])
                #expect(answer.stdout.contains("\(certificate.path): \(status)"), "\(name): \(answer.stdout)\(answer.stderr)")
            }
        }
        #expect(AuditEvent.firstBrokenLink(try store.events()) == nil)
        let findings = try cluster.findings()
        #expect(findings.isEmpty, "\(findings)")
        for node in cluster.nodes.values { #expect(node.stop() == 0) }
    }

    /// A batch of 300 things through node-a with 8 requests in flight, running: returned once
    /// 20 bundles have arrived.
    struct BatchUnderWay {
        let work: URL
        let out: URL
        let rows: [String]
        let pid: pid_t

        init(through cluster: Cluster) throws {
            work = cluster.store.folder.url
            rows = (1...300).map { String(format: "line1-%04d", $0) }
            try Data((["thing"] + rows).joined(separator: "\n").utf8).write(to: work.appendingPathComponent("rows.csv"))
            out = work.appendingPathComponent("out")
            try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
            pid = try Spawn.start(ProcessRunner.iotcaExecutable, ["batch", work.path + "/rows.csv", "--out", out.path, "--jobs", "8"],
                                  environment: cluster.remote("node-a", as: "line1"), stdout: work.appendingPathComponent("batch.out"),
                                  stderr: work.appendingPathComponent("batch.err"))
            let out = out
            let started = FileWatch.wait(in: out, timeout: 60) {
                ((try? FileManager.default.contentsOfDirectory(atPath: out.path)) ?? []).filter { !$0.hasPrefix(".") }.count >= 20
            }
            #expect(started)
        }

        /// Waits for the batch to end: its exit status and stderr.
        func finish() -> (status: Int32, stderr: String) {
            let status = Spawn.stop(pid, signal: 0)
            return (status, (try? String(contentsOf: work.appendingPathComponent("batch.err"), encoding: .utf8)) ?? "")
        }

        /// Runs the batch again, then checks that every thing has one active certificate, each
        /// bundle is its recorded one, and doctor finds nothing.
        func rerunAndCheck(_ cluster: Cluster) throws {
            let rerun = try ProcessRunner.run(ProcessRunner.iotcaExecutable, ["batch", work.path + "/rows.csv", "--out", out.path],
                                              environment: cluster.remote("node-a", as: "line1"))
            #expect(rerun.succeeded, "\(rerun.stdout)\(rerun.stderr)")
            let active = try cluster.store.store.certificates(CertificateFilter(status: .active)).filter { rows.contains($0.thing ?? "") }
            #expect(active.count == 300 && Set(active.compactMap(\.thing)).count == 300)
            for entry in active {
                let pem = try String(contentsOf: out.appendingPathComponent("\(entry.thing ?? "")/cert.pem"), encoding: .utf8)
                #expect(pem == entry.pem)
            }
            let findings = try cluster.findings()
            #expect(findings.isEmpty, "\(findings)")
        }
    }

    @Test func aDatabaseStoppedUnderLoadIs503AndTheNodeRecovers() throws {
        let cluster = try Cluster()
        let node = try cluster.start("node-a")
        // Stop the database once bundles are arriving: requests in flight meet it going away.
        let batch = try BatchUnderWay(through: cluster)
        let postgres = try #require(cluster.store.postgres)
        postgres.stop()
        let (status, stderr) = batch.finish()
        #expect(node.deathNotice() == nil, "\(node.deathNotice() ?? "")")
        // A request in flight may meet the database going away mid-commit: then the answer is
        // "may have been recorded" rather than "unavailable"; both are a 503 and exit 3.
        #expect(status == 3 && stderr.contains("HTTP 503"), "exit \(status): \(stderr)")
        let refused = try cluster.call("node-a", "/v1/certificates", as: "line1", json: #"{"thing":"line1-0999"}"#)
        #expect(refused.status == 503 && refused.body.contains("unavailable"), "\(refused.body)")
        #expect(try cluster.call("node-a", "/v1/whoami", as: "line1").status == 503)
        // The CLI on the same database says so too: exit 3.
        let cli = try ProcessRunner.run(ProcessRunner.iotcaExecutable, ["list", "--store", cluster.store.storeArgument],
                                        environment: cluster.store.processEnvironment)
        #expect(cli.status == 3 && cli.stderr.contains("unavailable"), "\(cli.stderr)")
        // Back: the same node, no restart; the batch run again finishes, nothing lost or doubled.
        try postgres.start()
        try batch.rerunAndCheck(cluster)
        #expect(try cluster.call("node-a", "/v1/whoami", as: "line1").status == 200)
        #expect(node.stop() == 0)
    }

    /// `pg_ctl restart -m fast` under load: the database ends every session and comes back at
    /// once. Requests in flight get a 503 (or succeed on a new connection), the node reconnects
    /// by itself, the re-run finishes, every bundle a client was handed is in the store.
    @Test func aDatabaseRestartedUnderLoadLosesNothing() throws {
        let cluster = try Cluster()
        let node = try cluster.start("node-a")
        let batch = try BatchUnderWay(through: cluster)
        let postgres = try #require(cluster.store.postgres)
        postgres.stop()  // fast shutdown (SIGINT), as pg_ctl restart -m fast does, then at once:
        try postgres.start()
        let (status, stderr) = batch.finish()
        #expect(node.deathNotice() == nil, "\(node.deathNotice() ?? "")")
        #expect(status == 0 || (status == 3 && stderr.contains("HTTP 503")), "exit \(status): \(stderr)")
        // The node was not restarted: it serves again on its own, and the re-run finishes.
        #expect(try cluster.call("node-a", "/v1/whoami", as: "line1").status == 200)
        try batch.rerunAndCheck(cluster)
        #expect(node.stop() == 0)
    }
}
