import Foundation
@testable import IoTCAKit
import Testing
import TestSupport

@Suite struct DoctorTests {
    func healthyStore() throws -> TemporaryStore {
        let fixture = try TemporaryStore(encrypted: false)
        try fixture.issue(IssueRequest(thing: "a"))
        try fixture.issue(IssueRequest(thing: "b"))
        _ = try RevocationService(keyring: fixture.keyring).revoke(.thing("b"), reason: .keyCompromise)
        _ = try RevocationService(keyring: fixture.keyring).publishAll()
        return fixture
    }

    @Test func aHealthyStoreHasNoFindings() throws {
        let fixture = try healthyStore()
        let report = try Doctor(store: fixture.store).examine(bundles: fixture.bundles)
        #expect(report.findings.isEmpty, "\(report.findings)")
        #expect(report.certificates == 6 && report.crls == 4 && report.bundles == 2)  // four CAs, two devices
    }

    /// A certificate row moved to another thing, or deleted, no longer matches the issuance
    /// event the hash chain holds: found, on both engines (their JSON functions differ).
    @Test(arguments: TemporaryStore.Backend.allCases)
    func rowsAreCheckedAgainstTheirIssuanceEvents(_ backend: TemporaryStore.Backend) throws {
        let fixture = try TemporaryStore(backend: backend)
        for thing in ["a", "b", "c"] { try fixture.issue(IssueRequest(thing: thing)) }
        let clean = try Doctor(store: fixture.store).examine().findings.filter { $0.check != "kdf" }
        #expect(clean.isEmpty, "\(clean)")
        let serialOfB = try #require(try fixture.store.certificates(CertificateFilter(thing: "b")).first?.serial.hex)
        try fixture.store.write { db in
            try db.execute("UPDATE certificates SET thing = 'c' WHERE thing = 'a'")
            try db.execute("DELETE FROM certificates WHERE thing = 'b'")
        }
        let found = try Doctor(store: fixture.store).examine().findings.filter { $0.check == "audit" }.map(\.problem)
        #expect(found.count == 2, "\(found)")
        #expect(found.contains { $0.contains("was issued to a, the store says c") }, "\(found)")
        #expect(found.contains { $0.contains("certificate \(serialOfB) of CA issuing, issued to b, is not in the store") }, "\(found)")
    }

    @Test func tamperingIsFound() throws {
        let fixture = try healthyStore()
        try fixture.store.write { db in
            try db.execute("UPDATE certificates SET not_after = '2099-01-01 00:00:00.000' WHERE thing = 'a'")
            try db.execute("UPDATE events SET details = '{}' WHERE id = 4")
        }
        chmod(fixture.store.layout.url(try fixture.store.authority(named: "issuing").keyFile).path, 0o644)
        try Data([0x30, 0x00]).write(to: fixture.store.layout.publicFolder.appendingPathComponent("issuing.crl"))
        try FileManager.default.createDirectory(at: fixture.bundles.appendingPathComponent("ghost"), withIntermediateDirectories: true)
        try Data(#"{"serial": "0102"}"#.utf8).write(to: fixture.bundles.appendingPathComponent("ghost/manifest.json"))
        let report = try Doctor(store: fixture.store).examine(bundles: fixture.bundles)
        let checks = Set(report.findings.map(\.check))
        #expect(checks == ["certificate", "audit", "files", "crl", "bundles"], "\(report.findings)")
        #expect(report.findings.contains { $0.problem.contains("recorded validity") })
        #expect(report.findings.contains { $0.problem.contains("hash chain breaks at event 4") })
        let audit = try AuditReport.make(store: fixture.store)
        #expect(!audit.chainIntact && audit.brokenAt == 4)
    }

    @Test func caKeysThatAreMissingUnreadableOrForeignAreFound() throws {
        let fixture = try TemporaryStore(encrypted: true)
        let keyring = Keyring(store: fixture.store, passphrase: .fixed(Passphrase(TemporaryStore.passphrase)))
        // The fixture's fast test KDF is below the policy, and doctor says so for each key file.
        let fresh = try Doctor(store: fixture.store, keyring: keyring).examine().findings
        #expect(fresh.count == 5 && fresh.allSatisfy { $0.check == "kdf" && $0.problem.contains("2048 iterations") }, "\(fresh)")
        let manager = AuthorityManager(keyring: fixture.keyring)
        try manager.createSubordinate("gone", parent: "root")
        try manager.createSubordinate("garbled", parent: "root")
        try manager.createSubordinate("foreign", parent: "root")
        let layout = fixture.store.layout
        try FileManager.default.removeItem(at: layout.url(try fixture.store.authority(named: "gone").keyFile))
        try Data("not a key".utf8).write(to: layout.url(try fixture.store.authority(named: "garbled").keyFile))
        // Another key, encrypted with the same passphrase: it opens, but it is not the CA's.
        let other = try KeyGenerator().generate(.ecP256).pem(encryptedWith: Passphrase(TemporaryStore.passphrase))
        try Data(other.utf8).write(to: layout.url(try fixture.store.authority(named: "foreign").keyFile))
        // A key file no CA uses: a create killed before it committed.
        try Data(other.utf8).write(to: layout.keys.appendingPathComponent("late.0123456789ab.key.pem"))

        let withPassphrase = try Doctor(store: fixture.store, keyring: keyring).examine().findings.filter { $0.check == "key" }
        #expect(withPassphrase.contains { $0.subject == "gone" && $0.problem.contains("missing or unreadable") })
        #expect(withPassphrase.contains { $0.subject == "garbled" && $0.problem.contains("does not open") })
        #expect(withPassphrase.contains { $0.subject == "foreign" && $0.problem.contains("another key than the CA's certificate") })
        #expect(withPassphrase.contains { $0.subject == "late.0123456789ab.key.pem" && $0.problem.contains("no CA or standby key uses") })
        #expect(withPassphrase.count == 4, "\(withPassphrase)")
        // Without the passphrase, what can be seen without opening keys is still reported.
        let without = try Doctor(store: fixture.store, keyring: Keyring(store: fixture.store, passphrase: .fixed(nil)))
            .examine().findings.filter { $0.check == "key" }
        #expect(Set(without.map(\.subject)) == ["gone", "late.0123456789ab.key.pem"], "\(without)")
    }

    @Test func rewritingTheWholeChainIsCaughtByTheCASignedCheckpoints() throws {
        let fixture = try healthyStore()  // two CRL publications: two checkpoints
        let before = AuditCheckpoint.verify(try fixture.store.events(), authorities: try fixture.store.authorities())
        #expect(before.problems.isEmpty && before.verified >= 2 && before.unanchored == 0, "\(before)")
        try fixture.issue(IssueRequest(thing: "c"))
        #expect(AuditCheckpoint.verify(try fixture.store.events(), authorities: try fixture.store.authorities()).unanchored == 1)
        // Whoever can write the database edits an early event and re-hashes every row after it:
        // the unkeyed chain is intact again, but the checkpoints signed the old heads.
        try fixture.store.write { db in
            try db.execute("UPDATE events SET subject = 'mallory' WHERE action = 'certificate.issue' AND subject = 'a'")
            var previous = AuditEvent.genesisHash
            for row in try db.rows("SELECT * FROM events ORDER BY id") {
                let at: String = try #require(row.get("at")), action: String = try #require(row.get("action"))
                let subject: String = try #require(row.get("subject"))
                var details: String = try #require(row.get("details"))
                if action == AuditCheckpoint.action {
                    // The forger can point the checkpoint at the new head, but cannot sign it.
                    var object = try JSONSerialization.jsonObject(with: Data(details.utf8)) as? [String: String] ?? [:]
                    object["head"] = previous
                    details = CompactJSON.object(object)
                }
                let rehashed = AuditEvent.hash(previous: previous, at: at, action: action, subject: subject, details: details)
                try db.execute("UPDATE events SET details = ?, hash = ? WHERE id = ?",
                               details, rehashed, try #require(row.get("id", as: Int64.self)))
                previous = rehashed
            }
        }
        let events = try fixture.store.events()
        #expect(AuditEvent.verifyChain(events))
        let verdict = AuditCheckpoint.verify(events, authorities: try fixture.store.authorities())
        #expect(!verdict.problems.isEmpty && verdict.problems.allSatisfy { $0.contains("does not verify") }, "\(verdict)")
        #expect(try Doctor(store: fixture.store).examine().findings.contains { $0.subject == "checkpoints" })
        #expect(try AuditReport.make(store: fixture.store).checkpointProblems == verdict.problems)
    }

    @Test func corruptRowsAreErrorsThatDoctorReportsOneByOne() throws {
        let fixture = try healthyStore()
        try fixture.issue(IssueRequest(thing: "c"))
        try fixture.store.write { db in
            // Each of these used to be read back as a default (an empty serial, ec-p256, a
            // subordinate CA) and looked healthy.
            try db.execute("UPDATE certificates SET serial = 'not-hex' WHERE thing = 'a'")
            try db.execute("UPDATE certificates SET key_algorithm = 'dsa-512' WHERE thing = 'c'")
            try db.execute("UPDATE authorities SET kind = 'emperor' WHERE name = 'issuing'")
        }
        let error = #expect(throws: StoreError.self) { try fixture.store.certificates(CertificateFilter()) }
        guard case .corruptRow(let table, _, let detail) = error else { Issue.record("not a corrupt row: \(String(describing: error))"); return }
        #expect(table == "certificates" && detail.contains("serial"))
        #expect(error?.kind == .store)
        #expect(throws: StoreError.self) { try fixture.store.authority(named: "issuing") }
        let findings = try Doctor(store: fixture.store).examine().findings.filter { $0.check == "store" }
        #expect(findings.count == 3, "\(findings)")
        #expect(findings.contains { $0.subject == "certificates not-hex" && $0.problem.contains("serial") })
        #expect(findings.contains { $0.problem.contains("key_algorithm") && $0.problem.contains("dsa-512") })
        #expect(findings.contains { $0.subject == "authorities issuing" && $0.problem.contains("kind") })
    }

    @Test func auditReportListsIssuedAndRevokedCertificates() throws {
        let fixture = try healthyStore()
        let report = try AuditReport.make(store: fixture.store)
        #expect(report.chainIntact)
        let csv = report.certificatesCSV.split(separator: "\n")
        #expect(csv.count == 7)  // header, root, issuing, service-root, service, a, b
        #expect(csv.contains { $0.contains(",b,") && $0.contains(",revoked,") && $0.contains("key-compromise") })
        #expect(report.eventsCSV.split(separator: "\n").count == report.events.count + 1)
        let later = try AuditReport.make(store: fixture.store, since: Date().addingTimeInterval(3600))
        #expect(later.certificates.isEmpty && later.events.isEmpty)
    }
}
