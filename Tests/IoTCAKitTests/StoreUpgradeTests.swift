import Foundation
import GRDB
@testable import IoTCAKit
import Testing
import TestSupport

/// A store written by an older iotca (`Fixtures/store-v11`: schema v11, before v12 dropped the
/// stored fingerprints, the second serial index and the events' previous hashes) opened by
/// this one: nothing lost, every check still clean, and the store still works.
@Suite struct StoreUpgradeTests {
    static let fixture = ProcessRunner.repositoryRoot.appendingPathComponent("Tests/IoTCAKitTests/Fixtures/store-v11")

    /// A copy of the fixture with the modes `init` gives (git keeps neither them nor empty folders).
    func copy() throws -> (TemporaryFolder, URL) {
        let folder = TemporaryFolder()
        let store = folder.appending("store")
        try FileManager.default.copyItem(at: Self.fixture, to: store)
        try FileManager.default.removeItem(at: store.appendingPathComponent("README.md"))
        for name in ["locks", "templates"] {
            try FileManager.default.createDirectory(at: store.appendingPathComponent(name), withIntermediateDirectories: true)
        }
        let files = FileManager.default
        for name in ["", "keys", "locks"] { try files.setAttributes([.posixPermissions: 0o700], ofItemAtPath: store.appendingPathComponent(name).path) }
        for key in try files.contentsOfDirectory(atPath: store.appendingPathComponent("keys").path) {
            try files.setAttributes([.posixPermissions: 0o600], ofItemAtPath: store.appendingPathComponent("keys/\(key)").path)
        }
        return (folder, store)
    }

    struct OldRow: Equatable { let id: Int64, serial: String, fingerprint: String, spki: String }

    @Test func aVersion11StoreOpensWithEveryRowAndCheckIntact() throws {
        let (folder, url) = try copy()
        _ = folder
        let database = url.appendingPathComponent("iotca.db").path
        let before = try DatabaseQueue(path: database)
        let (old, oldEvents, sequence) = try before.read { db in
            (try Row.fetchAll(db, sql: "SELECT id, serial, fingerprint_sha256, spki_sha256 FROM certificates ORDER BY id").map {
                OldRow(id: $0["id"], serial: $0["serial"], fingerprint: $0["fingerprint_sha256"], spki: $0["spki_sha256"])
            }, try Row.fetchAll(db, sql: "SELECT id, prev_hash, hash FROM events ORDER BY id").map {
                [$0["id"] as Int64 as Any, $0["prev_hash"] as String as Any, $0["hash"] as String as Any]
            }, try Int64.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = 'certificates'"))
        }
        try before.close()
        #expect(old.count == 9 && oldEvents.count == 18 && sequence == 9)

        let store = try Store.open(url)
        var all = CertificateFilter()
        all.includeAuthorities = true
        let entries = try store.certificates(all)
        // The fingerprints read back (now computed from the DER) are the ones v11 stored.
        #expect(entries.map { OldRow(id: 0, serial: $0.serial.hex, fingerprint: $0.fingerprintSHA256, spki: $0.spkiSHA256) }
            == old.map { OldRow(id: 0, serial: $0.serial, fingerprint: $0.fingerprint, spki: $0.spki) })
        #expect(entries.filter { $0.thing == "meter-2" }.map(\.status) == [.revoked])
        // Each event's previous hash, now the row before it, is the one v11 stored.
        let events = try store.events()
        #expect(events.map { [$0.id as Any, $0.previousHash as Any, $0.hash as Any].description }
            == oldEvents.map(\.description))
        #expect(AuditEvent.firstBrokenLink(events) == nil)
        let report = try Doctor(store: store).examine()
        #expect(report.findings.isEmpty, "\(report.findings)")
        #expect(report.certificates == 9 && report.events == 18)

        // The lean shape, and what the rebuild had to bring back: the serial's single index,
        // the revocation trigger and the id sequence.
        let after = try DatabaseQueue(path: database)
        try after.read { db in
            let columns = try Row.fetchAll(db, sql: "PRAGMA table_info(certificates)").map { $0["name"] as String }
            #expect(!columns.contains("fingerprint_sha256") && !columns.contains("spki_sha256") && columns.contains("der"))
            #expect(!(try Row.fetchAll(db, sql: "PRAGMA table_info(events)").map { $0["name"] as String }.contains("prev_hash")))
            let indexes = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'certificates'")
            #expect(!indexes.contains("certificates_serial"))
            #expect(Set(["certificates_on_thing", "certificates_on_not_after", "certificates_revoked", "certificates_recorded",
                         "certificates_template", "certificates_authority", "certificates_revoked_order"]).isSubset(of: Set(indexes)))
            let plan = try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN SELECT * FROM certificates WHERE serial = '01'").map { $0["detail"] as String }
            #expect(plan.joined().contains("USING INDEX sqlite_autoindex_certificates_1 (serial=?)"), "\(plan)")
            #expect(try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'certificates'")
                == ["revocation_epoch_certificates"])
            #expect(try Int64.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = 'certificates'") == 9)
            let foreignKeyProblems = try Row.fetchAll(db, sql: "PRAGMA foreign_key_check")
            #expect(foreignKeyProblems.isEmpty)
        }
        try after.close()

        // It still works: a revocation counts in the epoch (the trigger), a new certificate takes
        // the next id and chains onto the old log, a CRL lists both revoked certificates.
        let keyring = Keyring(store: store, passphrase: .fixed(nil))
        let epoch = try store.setting("revocation_epoch").flatMap(Int.init)
        _ = try RevocationService(keyring: keyring).revoke(.thing("meter-1"), reason: .superseded)
        #expect(try store.setting("revocation_epoch").flatMap(Int.init) ?? 0 > epoch ?? Int.max)
        let bundles = folder.appending("bundles")
        _ = try Provisioner(keyring: keyring).issue(IssueRequest(thing: "meter-5"), bundleParent: bundles)
        let crl = try #require(try RevocationService(keyring: keyring).publish("issuing"))
        #expect(crl.entries == 2)
        let grown = try store.certificates(all)
        #expect(grown.count == 10 && grown.last?.thing == "meter-5")
        // The rebuilt table's old pages go back to the file system; nothing else changes.
        // (Later migrations may reuse some of those pages first: the file never grows, and no
        // free page is left.)
        let sizes = try #require(try store.compact())
        #expect(sizes.after <= sizes.before, "\(sizes)")
        let reopened = try Store.open(url)
        #expect(try reopened.read { db in try db.value(Int.self, "PRAGMA freelist_count") } == 0)
        #expect(try reopened.events().last?.action == "store.compact")
        #expect(AuditEvent.firstBrokenLink(try reopened.events()) == nil)
        #expect(try Doctor(store: reopened).examine().findings.isEmpty)
        let ids = try DatabaseQueue(path: database)
        #expect(try ids.read { try Int64.fetchOne($0, sql: "SELECT MAX(id) FROM certificates") } == 10)
        try ids.close()
    }
}
