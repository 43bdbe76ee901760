import Foundation
@testable import IoTCAKit
import Testing
import TestSupport

/// Fleet-wide reads on both engines: `list`, `audit` and `doctor` stream rows from one
/// snapshot (past PostgreSQL's cursor page), answer each filter from an index, and print the
/// same records the whole-array versions did.
@Suite struct FleetQueryTests {
    static let backends = TemporaryStore.Backend.allCases
    /// More than one PostgreSQL FETCH page.
    static let fleet = PostgresSQLConnection.fetchSize + 150

    /// `count` rows copied from one real certificate (serial, thing, template and status of
    /// their own), in one transaction: a fleet for reading, not for signature checks.
    func seed(_ fixture: TemporaryStore, count: Int) throws {
        let original = try fixture.issue(IssueRequest(thing: "seed-original")).entry.serial.hex
        try fixture.store.write { db in
            for index in 0..<count {
                let serial = String(format: "7f%038x", index)
                try db.execute("""
                    INSERT INTO certificates (serial, authority_id, thing, subject_authority, template, subject, sans, key_algorithm,
                        not_before, not_after, status, der, created_at, delivery)
                    SELECT ?, authority_id, ?, subject_authority, ?, subject, sans, key_algorithm, not_before, not_after, ?,
                        der, created_at, delivery FROM certificates WHERE serial = ?
                    """, serial, "fleet-\(index)", index % 3 == 0 ? "meter" : "device", index % 10 == 0 ? "revoked" : "active", original)
            }
        }
    }

    static let filters: [(String, CertificateFilter)] = {
        var withCAs = CertificateFilter()
        withCAs.includeAuthorities = true
        return [("all", CertificateFilter()), ("with CAs", withCAs), ("active", CertificateFilter(status: .active)),
                ("revoked", CertificateFilter(status: .revoked)), ("template", CertificateFilter(template: "meter")),
                ("thing", CertificateFilter(thing: "fleet-7")), ("ca", CertificateFilter(authority: "issuing")),
                ("ca and status", CertificateFilter(status: .revoked, authority: "issuing")),
                ("expiring", CertificateFilter(expiringBefore: Date().addingTimeInterval(400 * 86_400))),
                ("active expiring", CertificateFilter(status: .active, expiringBefore: Date().addingTimeInterval(400 * 86_400)))]
    }()

    @Test(arguments: backends)
    func listingsStreamTheSameRecordsInOrder(_ backend: TemporaryStore.Backend) throws {
        let fixture = try TemporaryStore(backend: backend)
        try seed(fixture, count: Self.fleet)
        for (name, filter) in Self.filters {
            let whole = try fixture.store.certificates(filter).map(\.serial)
            var streamed: [SerialNumber] = []
            try fixture.store.forEachCertificate(filter) { streamed.append($0.serial) }
            #expect(streamed == whole, "\(name) on \(backend)")
        }
        #expect(try fixture.store.certificates(CertificateFilter(template: "meter")).count == (Self.fleet + 2) / 3)
        #expect(try fixture.store.certificates(CertificateFilter(status: .revoked)).count == (Self.fleet + 9) / 10)
    }

    /// The engine's plan for `sql`, a line per step. On PostgreSQL a sequential scan is priced
    /// out: on a small table it is the cheapest plan, and the question is whether an index can
    /// answer at all.
    static func plan(_ sql: String, _ arguments: [SQLValue], in fixture: TemporaryStore, _ backend: TemporaryStore.Backend) throws -> [String] {
        try fixture.store.read { db in
            switch backend {
            case .sqlite:
                return try db.rows("EXPLAIN QUERY PLAN " + sql, arguments).compactMap { $0.get("detail", as: String.self) }
            case .postgres:
                try db.execute("SET LOCAL enable_seqscan = off", [])
                return try db.rows("EXPLAIN " + sql, arguments).compactMap { $0.get(0, as: String.self) }
            }
        }
    }

    /// Each selective filter is answered from an index: no scan of the certificates table (and
    /// so of every DER), whatever the fleet's size; where the index also gives the recorded
    /// order, no sort either. Checked with the engines' own planners.
    @Test(arguments: backends)
    func everyFleetFilterIsAnsweredFromAnIndex(_ backend: TemporaryStore.Backend) throws {
        let fixture = try TemporaryStore(backend: backend)
        try seed(fixture, count: 200)
        for (name, filter) in Self.filters {
            // The whole fleet (and its active part, most of it) is read in the recorded order as
            // it is stored: a scan, never a sort.
            let whole = ["all", "with CAs"].contains(name)
            let (sql, arguments) = Store.certificateSelection(filter)
            let plan = try Self.plan(sql, arguments, in: fixture, backend)
            let text = plan.joined(separator: "\n")
            switch backend {
            case .sqlite:
                // A scan of the table itself (a scan of a partial index is the result alone).
                let scans = plan.contains { ($0.hasPrefix("SCAN c") || $0.hasPrefix("SCAN TABLE certificates")) && !$0.contains("INDEX") }
                #expect(whole || name == "active" || !scans, "\(name): \(text)")
                #expect(!text.contains("TEMP B-TREE"), "\(name): \(text)")
            case .postgres:
                #expect(whole || name == "active" || !text.contains("Seq Scan on certificates"), "\(name): \(text)")
            }
        }
    }

    /// What every issuance, revocation and CRL asks stays on its own index with the fleet
    /// indexes beside it (a status index once drew the thing lookups of every issuance into a
    /// scan of the active fleet: 4% of the empty store's rate at 20,000 certificates).
    @Test(arguments: backends)
    func theHotPathsKeepTheirIndexes(_ backend: TemporaryStore.Backend) throws {
        let fixture = try TemporaryStore(backend: backend)
        try seed(fixture, count: 200)
        // PostgreSQL plans from the statistics autovacuum keeps; SQLite stores never gather any,
        // so there the plan must be right without them.
        if backend == .postgres { try fixture.store.write { db in _ = try db.execute("ANALYZE certificates", []) } }
        let queries: [(String, String, [SQLValue])] = [
            ("certificates_thing", "SELECT serial FROM certificates WHERE thing = ? AND status = 'active' ORDER BY id", [.text("fleet-3")]),
            ("certificates_thing", "SELECT thing, MIN(CASE WHEN delivery = 'recorded' THEN 1 ELSE 0 END) FROM certificates WHERE thing IN (?, ?) AND status = 'active' GROUP BY thing",
             [.text("fleet-3"), .text("fleet-4")]),
            ("certificates_revoked", "SELECT serial, thing, revoked_at FROM certificates WHERE authority_id = ? AND status = 'revoked' AND not_after > ? ORDER BY revoked_at, id",
             [.integer(2), .text("2026-01-01 00:00:00.000")]),
            // SQLite's per-CA uniqueness leads with the serial (schema v12); PostgreSQL keeps an index of its own.
            (backend == .postgres ? "certificates_serial" : "sqlite_autoindex_certificates_1",
             "SELECT * FROM certificates WHERE serial = ?", [.text("7f01")]),
        ]
        for (index, sql, arguments) in queries {
            let plan = try Self.plan(sql, arguments, in: fixture, backend).joined(separator: "\n")
            // GRDB names SQLite's thing index `certificates_on_thing`.
            #expect(plan.contains(index) || (index == "certificates_thing" && plan.contains("certificates_on_thing")), "\(sql): \(plan)")
        }
    }

    /// `audit` streamed prints what the whole report printed, in each format, and its verdict
    /// still catches an edited event.
    @Test(arguments: backends)
    func theStreamedAuditIsTheReport(_ backend: TemporaryStore.Backend) throws {
        let fixture = try TemporaryStore(backend: backend)
        for index in 0..<5 { try fixture.issue(IssueRequest(thing: "sensor-\(index)")) }
        _ = try CertificateAuthority(keyring: fixture.keyring).revoke(.thing("sensor-1"))
        let report = try AuditReport.make(store: fixture.store)
        func written(_ format: AuditStream.Format, events: Bool = false, since: Date? = nil) throws -> (String, AuditStream.Verdict) {
            let file = fixture.folder.appending("audit-\(UUID().uuidString)")
            _ = FileManager.default.createFile(atPath: file.path, contents: nil)
            let handle = try FileHandle(forWritingTo: file)
            let verdict = try AuditStream(store: fixture.store).write(format, events: events, since: since,
                                                                      to: StreamWriter(descriptor: handle.fileDescriptor, name: file.path))
            try handle.close()
            return (try String(contentsOf: file, encoding: .utf8), verdict)
        }
        #expect(try written(.csv).0 == report.certificatesCSV)
        #expect(try written(.csv, events: true).0 == report.eventsCSV)
        let lines = try written(.jsonl).0.split(separator: "\n")
        #expect(lines.count == report.certificates.count)
        let first = try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any]
        #expect(first?["serial"] as? String == report.certificates[0].serial.hex)
        #expect(try written(.jsonl, events: true).0.split(separator: "\n").count == report.events.count)
        let (json, verdict) = try written(.json)
        #expect(verdict.chainIntact && verdict.checkpoints == report.checkpoints)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect((object["certificates"] as? [Any])?.count == report.certificates.count)
        #expect((object["events"] as? [Any])?.count == report.events.count)
        #expect(object["hash_chain_intact"] as? Bool == true && object["unanchored_events"] as? Int == report.unanchoredEvents)
        // A CA made while a long report ran signs checkpoints the list read at its start lacks:
        // checked again with the CAs read at the end, not reported as an altered log.
        let events = try fixture.store.events(), authorities = try fixture.store.authorities()
        var check = AuditChainCheck(authorities: authorities.filter { $0.name != "issuing" })
        for event in events { check.add(event) }
        #expect(check.verdict.problems.contains { $0.contains("names CA issuing") })
        check.recheck(with: authorities)
        #expect(check.verdict == report.checkpoints && check.verdict.verified > 0)
        // Since a time: only what changed from then, the whole log checked.
        let later = try written(.csv, since: Date().addingTimeInterval(3_600)).0
        #expect(later == AuditReport.certificatesHeader + "\n")
        // An edited event breaks the chain there.
        try fixture.store.write { db in _ = try db.execute("UPDATE events SET details = '{}' WHERE id = (SELECT MIN(id) + 2 FROM events)", []) }
        let broken = try written(.csv).1
        let whole = try AuditReport.make(store: fixture.store)
        #expect(!broken.chainIntact && broken.brokenAt == whole.brokenAt && whole.brokenAt != nil)
    }

    /// `doctor --sample N` checks about N certificates and finds a bad one among few; the full
    /// examination streams every row and still finds a corrupt one.
    @Test func doctorSamplesAndStreams() throws {
        let fixture = try TemporaryStore()
        for index in 0..<20 { try fixture.issue(IssueRequest(thing: "sensor-\(index)")) }
        let authority = CertificateAuthority(keyring: fixture.keyring)
        let sampled = try authority.doctor(sample: 8)
        #expect(sampled.certificates > 0 && sampled.certificates <= 8)
        #expect(sampled.findings.filter { $0.check != "kdf" }.isEmpty)
        #expect(sampled.things == 20 && sampled.events > 20)
        let full = try authority.doctor()
        #expect(full.certificates == 20 + 4)
        try fixture.store.write { db in _ = try db.execute("UPDATE certificates SET subject = 'CN=forged' WHERE thing = 'sensor-3'", []) }
        let found = try authority.doctor().findings.filter { $0.check == "certificate" }
        #expect(found.count == 1 && found.first?.subject == "sensor-3")
        let one = try authority.doctor(sample: 200).findings.filter { $0.check == "certificate" }
        #expect(one.count <= 1)
    }

    /// The CLI's streamed formats: JSON Lines from `list` and `audit`, a JSON array as before,
    /// `doctor --sample`, and a refused sample size.
    @Test func theCLIStreamsItsFormats() throws {
        let fixture = try TemporaryStore()
        for index in 0..<3 { try fixture.issue(IssueRequest(thing: "sensor-\(index)")) }
        func iotca(_ arguments: [String]) throws -> ProcessResult {
            try ProcessRunner.run(ProcessRunner.iotcaExecutable, arguments + ["--store", fixture.storeArgument],
                                  environment: fixture.processEnvironment)
        }
        let jsonl = try iotca(["list", "--format", "jsonl"])
        #expect(jsonl.succeeded && jsonl.stdout.split(separator: "\n").count == 3)
        let array = try iotca(["list", "--json", "--status", "active", "--template", "device"])
        let parsed = try JSONSerialization.jsonObject(with: Data(array.stdout.utf8)) as? [[String: Any]]
        #expect(parsed?.count == 3)
        let none = try iotca(["list", "--json", "--thing", "nobody"])
        let empty = try JSONSerialization.jsonObject(with: Data(none.stdout.utf8)) as? [Any]
        #expect(none.succeeded && empty?.isEmpty == true)
        let table = try iotca(["list", "--template", "device"])
        #expect(table.stdout.split(separator: "\n").count == 4 && table.stdout.hasPrefix("SERIAL"))
        let audit = try iotca(["audit", "--format", "jsonl", "--events"])
        let events = try fixture.store.events().count
        #expect(audit.succeeded && audit.stdout.split(separator: "\n").count == events)
        let doctor = try iotca(["doctor", "--sample", "2"])
        #expect(doctor.stdout.contains("certificates") && doctor.status != 1, "\(doctor.stderr)")
        let refused = try iotca(["doctor", "--sample", "0"])
        #expect(refused.status == 64 && refused.stderr.contains("--sample"), "\(refused.status) \(refused.stderr)")
    }
}
