import ArgumentParser
import Crypto
import Foundation
import GRDB
import IoTCAKit

/// `iotca-bench fleet`: a store grown to fleet sizes by real issuance (`iotca batch`, JSON Lines
/// to /dev/null), then each fleet-wide command run in a fresh process with its time and peak
/// RSS, an in-process issuance rate into the full store against the empty one, and the store's
/// bytes per certificate.
struct FleetBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fleet", abstract: "Grow a store to N certificates and time list, audit, doctor, crl publish and issuance on it.")

    @Option(help: ArgumentHelp("Fleet sizes, ascending, comma-separated (the store grows from one to the next).", valueName: "N,..."))
    var certificates = "100000"

    @Option(help: "Percent of the new certificates of each step revoked (straight in the database, as a fleet's history would leave them).")
    var revokedPercent = 5

    @Option(help: "Folder for the store (default: a temporary folder, removed afterwards). Use a disk with room for 1.5 KB a certificate.")
    var folder: String?

    func run() throws {
        let sizes = certificates.split(separator: ",").compactMap { Int($0) }
        guard !sizes.isEmpty, sizes == sizes.sorted() else { throw ValidationError("--certificates takes ascending sizes, e.g. 100000,1000000") }
        let root = folder.map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("iotca-fleet-\(UUID().uuidString)")
        defer { if folder == nil { try? FileManager.default.removeItem(at: root) } }
        let bench = try BenchStore(in: root)
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("iotca").path
        let fleet = FleetRun(binary: binary, root: root, store: bench.store)
        let empty = try fleet.issuanceRate(authority: bench.authority, label: "empty")
        print(String(format: "issuance into the empty store: %.0f/s (in process, 300 bundles with keys)", empty))
        let emptyOCSP = try fleet.ocspRate(authority: bench.authority)
        print(String(format: "OCSP answers in the empty store: %.0f/s (in process, signed, a nonce each)", emptyOCSP))
        var seeded = 0
        for size in sizes {
            let seconds = try fleet.grow(from: seeded, to: size, revokedPercent: revokedPercent)
            print(String(format: "\n== %d certificates (seeded %d more by iotca batch in %.1f s, %.0f/s; %d%% of them revoked)",
                         size, size - seeded, seconds, Double(size - seeded) / seconds, revokedPercent))
            seeded = size
            print("command                                        seconds  µs/cert  peak RSS MB  CPU s")
            for (label, arguments) in FleetRun.commands {
                let run = try fleet.measure(arguments)
                print(label.padding(toLength: 46, withPad: " ", startingAt: 0) + String(format: " %8.2f %8.1f %12.1f %6.2f",
                      run.seconds, run.seconds * 1e6 / Double(size), run.peakMB, run.cpuSeconds) + (run.status == 0 ? "" : "  (exit \(run.status))"))
            }
            let full = try fleet.issuanceRate(authority: bench.authority, label: "at-\(size)")
            print(String(format: "issuance into the full store: %.0f/s (%.0f%% of the empty store's %.0f/s)", full, full / empty * 100, empty))
            let ocsp = try fleet.ocspRate(authority: bench.authority)
            print(String(format: "OCSP answers in the full store: %.0f/s (%.0f%% of the empty store's; 2,000 serials of the fleet)", ocsp, ocsp / emptyOCSP * 100))
            let bytes = fleet.storeBytes()
            let count = try fleet.certificateCount()
            print(String(format: "store: %.1f MB, %.0f bytes a certificate (%d certificate rows)", Double(bytes) / 1e6, Double(bytes) / Double(max(count, 1)), count))
        }
    }
}

/// The moving parts of the fleet benchmark.
struct FleetRun {
    let binary: String
    let root: URL
    let store: URL

    /// The commands timed at each size, as a fleet's operator runs them.
    static let commands: [(String, [String])] = [
        ("list --status active --format jsonl", ["list", "--status", "active", "--format", "jsonl"]),
        ("list --json", ["list", "--json"]),
        ("list --expiring-within 30d", ["list", "--expiring-within", "30d"]),
        ("list --thing fleet-7 (a thing's history)", ["list", "--thing", "fleet-7"]),
        ("list --template device --status revoked", ["list", "--template", "device", "--status", "revoked"]),
        ("audit --format csv", ["audit", "--format", "csv"]),
        ("audit --format json", ["audit", "--format", "json"]),
        ("doctor", ["doctor"]),
        ("doctor --sample 1000", ["doctor", "--sample", "1000"]),
        ("crl publish --ca issuing", ["crl", "publish", "--ca", "issuing"]),
    ]

    /// Issues things `from..<to` with `iotca batch` (keys made, certificates signed, checked and
    /// recorded as any batch does; the bundles go to /dev/null as JSON Lines), then revokes
    /// `revokedPercent` of them in the database.
    /// A batch file holds at most a million rows, as a factory's daily files would.
    func grow(from: Int, to: Int, revokedPercent: Int) throws -> Double {
        var seconds = 0.0
        for start in stride(from: from, to: to, by: 1_000_000) {
            seconds += try seed(start..<min(start + 1_000_000, to))
        }
        let queue = try DatabaseQueue(path: store.appendingPathComponent("iotca.db").path)
        try queue.write { db in
            try db.execute(sql: """
                UPDATE certificates SET status = 'revoked', revoked_at = created_at, revocation_reason = 'cessationOfOperation'
                WHERE thing LIKE 'fleet-%' AND status = 'active' AND id > (SELECT COALESCE(MAX(id), 0) FROM certificates) - ?
                    AND abs(random() % 100) < ?
                """, arguments: [to - from, revokedPercent])
            try db.execute(sql: "UPDATE authorities SET crl_stale = 1")
        }
        try queue.close()
        return seconds
    }

    private func seed(_ things: Range<Int>) throws -> Double {
        let file = root.appendingPathComponent("fleet-\(things.lowerBound)-\(things.upperBound).csv")
        var text = "thing\n"
        text.reserveCapacity(things.count * 14)
        for index in things { text += "fleet-\(index)\n" }
        try text.write(to: file, atomically: false, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let run = try measure(["batch", file.path, "--format", "jsonl", "--out", "-"])
        guard run.status == 0 else { throw ValidationError("iotca batch exited with \(run.status)") }
        return run.seconds
    }

    /// Certificate rows, counted by the database (a fleet does not fit in this process).
    func certificateCount() throws -> Int {
        let queue = try DatabaseQueue(path: store.appendingPathComponent("iotca.db").path)
        defer { try? queue.close() }
        return try queue.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM certificates") ?? 0 }
    }

    /// Bundles a second in this process into the store as it is now (the CA key already open).
    func issuanceRate(authority: CertificateAuthority, label: String) throws -> Double {
        let provisioner = Provisioner(keyring: authority.keyring)
        let bundles = root.appendingPathComponent("issued-\(label)")
        _ = try provisioner.issue(IssueRequest(thing: "warm-\(label)"), bundleParent: bundles)
        let start = ContinuousClock.now
        for index in 0..<300 { _ = try provisioner.issue(IssueRequest(thing: "new-\(label)-\(index)"), bundleParent: bundles) }
        let seconds = IssueBench.seconds(ContinuousClock.now - start)
        try? FileManager.default.removeItem(at: bundles)
        return 300 / seconds
    }

    /// Signed OCSP answers a second in this process (the lookup `iotca serve` makes for each
    /// request, and its signature), for serials picked at random from the store.
    func ocspRate(authority: CertificateAuthority) throws -> Double {
        let issuing = try authority.authority(named: "issuing")
        guard let der = issuing.certificateDER, let (name, bits) = OCSPResponder.subjectAndKeyBits(der) else {
            throw ValidationError("the issuing CA has no certificate")
        }
        let nameHash = Array(Insecure.SHA1.hash(data: name)), keyHash = Array(Insecure.SHA1.hash(data: bits))
        var filter = CertificateFilter()
        filter.limit = 2_000
        let serials = try authority.certificates(filter).map(\.serial.bytes)
        let requests = (0..<2_000).map { index in
            OCSPBench.request(nameHash, keyHash, serial: serials[(index * 7_919) % serials.count], nonce: (0..<16).map { _ in UInt8.random(in: 0...255) })
        }
        let responder = OCSPResponder(keyring: authority.keyring)
        _ = responder.answer(requests[0])
        let start = ContinuousClock.now
        for request in requests { _ = responder.answer(request) }
        return Double(requests.count) / IssueBench.seconds(ContinuousClock.now - start)
    }

    /// The database and its write-ahead log.
    func storeBytes() -> Int {
        ["iotca.db", "iotca.db-wal"].reduce(0) { total, name in
            let attributes = try? FileManager.default.attributesOfItem(atPath: store.appendingPathComponent(name).path)
            return total + ((attributes?[.size] as? NSNumber)?.intValue ?? 0)
        }
    }

    /// `iotca ARGUMENTS --store STORE` in a fresh process, its output to /dev/null: wall time,
    /// peak RSS and CPU time, as GNU time reports them. (wait4's rusage after posix_spawn counts
    /// this process's own RSS too: Linux records the spawning process's high-water mark in the
    /// child at exec, so every command would seem to need the benchmark's memory.)
    func measure(_ arguments: [String]) throws -> (seconds: Double, peakMB: Double, cpuSeconds: Double, status: Int32) {
        let report = root.appendingPathComponent("time-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: report) }
        let timer = "/usr/bin/time"
        guard FileManager.default.isExecutableFile(atPath: timer) else { throw ValidationError("the fleet benchmark needs GNU time (apt-get install time)") }
        let argumentList = [timer, "-o", report.path, "-f", "%e %M %U %S", binary] + arguments + ["--store", store.path]
        var argv = argumentList.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let environment = ["IOTCA_PASSPHRASE=\(BenchStore.passphrase)", "PATH=/usr/bin:/bin"]
        var envp = environment.map { strdup($0) } + [nil]
        defer { for pointer in envp { free(pointer) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        var pid: pid_t = 0
        guard posix_spawn(&pid, timer, &actions, nil, &argv, &envp) == 0 else { throw CocoaError(.executableLoad) }
        var status: Int32 = 0
        _ = waitpid(pid, &status, 0)
        // "Command exited with non-zero status N" comes first when it failed.
        let line = ((try? String(contentsOf: report, encoding: .utf8)) ?? "").split(separator: "\n").last ?? ""
        let fields = line.split(separator: " ").compactMap { Double($0) }
        guard fields.count == 4 else { throw ValidationError("GNU time reported nothing for \(arguments.joined(separator: " "))") }
        return (fields[0], fields[1] / 1024, fields[2] + fields[3], (status >> 8) & 0xFF)
    }
}
