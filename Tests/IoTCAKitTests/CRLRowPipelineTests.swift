import Foundation
@_spi(Fuzzing) @testable import IoTCAKit
import Testing
import TestSupport

/// The CRL's entries cross from the reading thread to the encoding thread in chunks: a CRL of
/// several chunks is whole, a row that does not parse in a later chunk stops both threads and
/// records nothing, and the queue between them stays bounded and can be abandoned.
@Suite struct CRLRowPipelineTests {
    /// Revoked rows copied from one real certificate's row, with serials of their own (`7f`
    /// and the row's number).
    private func seed(_ fixture: TemporaryStore, _ backend: TemporaryStore.Backend, count: Int) throws {
        let columns = "serial, authority_id, thing, template, subject, sans, key_algorithm, not_before, not_after, status, revoked_at, "
            + "revocation_reason, invalidity_date, der, created_at, delivery"
        let values = "authority_id, 'seeded-' || i, template, subject, sans, key_algorithm, not_before, not_after, 'revoked', revoked_at, "
            + "CASE i % 3 WHEN 0 THEN 'key-compromise' WHEN 1 THEN NULL ELSE revocation_reason END, CASE i % 5 WHEN 0 THEN revoked_at END, "
            + "der, created_at, delivery"
        try fixture.store.write { db in
            switch backend {
            case .sqlite:
                try db.execute("""
                    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < \(count))
                    INSERT INTO certificates (\(columns)) SELECT printf('7f%038x', i), \(values)
                    FROM n, (SELECT * FROM certificates WHERE thing = 'd') AS d
                    """)
            case .postgres:
                try db.execute("""
                    INSERT INTO certificates (\(columns)) SELECT '7f' || lpad(to_hex(i), 38, '0'), \(values)
                    FROM generate_series(1, \(count)) AS n(i), (SELECT * FROM certificates WHERE thing = 'd') AS d
                    """)
            }
        }
    }

    @Test(arguments: TemporaryStore.Backend.allCases)
    func aCRLOfManyChunksListsEveryEntry(_ backend: TemporaryStore.Backend) throws {
        let fixture = try TemporaryStore(backend: backend)
        let service = RevocationService(keyring: fixture.keyring)
        let issued = try fixture.issue(IssueRequest(thing: "d"))
        _ = try service.revoke(.serial(issued.entry.serial, authority: nil), reason: .superseded, publish: false)
        let seeded = CRLRowPipeline<CRLBuilder>.rowsPerChunk * 5 + 17
        try seed(fixture, backend, count: seeded)
        let record = try #require(try service.publish("issuing"))
        #expect(record.entries == seeded + 1)
        let crl = service.crlFiles(of: "issuing").der.path
        let text = try OpenSSLCLI.run(["crl", "-inform", "DER", "-in", crl, "-noout", "-text"])
        #expect(text.succeeded, "\(text.stderr)")
        #expect(text.stdout.components(separatedBy: "Serial Number:").count - 1 == seeded + 1)
        #expect(text.stdout.uppercased().contains(String(format: "7F%038X", seeded)))
        #expect(text.stdout.contains(issued.entry.serial.hex.uppercased()))
        #expect(text.stdout.components(separatedBy: "Key Compromise").count - 1 == seeded / 3)
    }

    /// The bad row sorts first (the covering index orders by serial after the expiry, which the
    /// seeded rows share), so the encoding thread stops while the reading has chunks to go.
    @Test func aRowThatDoesNotParseStopsTheReadingAndRecordsNothing() throws {
        let fixture = try TemporaryStore(encrypted: false)
        let service = RevocationService(keyring: fixture.keyring)
        #expect(try service.publish("issuing")?.number == 1)
        let issued = try fixture.issue(IssueRequest(thing: "d"))
        _ = try service.revoke(.serial(issued.entry.serial, authority: nil), publish: false)
        try seed(fixture, .sqlite, count: CRLRowPipeline<CRLBuilder>.rowsPerChunk * 10)
        try fixture.store.write { db in
            try db.execute("UPDATE certificates SET serial = '0g' || substr(serial, 3) WHERE thing = 'seeded-1'")
        }
        let events = try fixture.store.events().count
        let error = #expect(throws: StoreError.self) { try service.publish("issuing") }
        guard case .corruptRow(let table, let key, let detail) = error else { Issue.record("not a corrupt row: \(String(describing: error))"); return }
        #expect(table == "certificates" && key.hasPrefix("0g") && detail.contains("serial"))
        #expect(try fixture.store.events().count == events)
        try fixture.store.write { db in
            try db.execute("UPDATE certificates SET serial = '7f' || substr(serial, 3) WHERE serial LIKE '0g%'")
        }
        #expect(try service.publish("issuing")?.number == 2)  // the failed draft spent no number
    }

    @Test func everyReasonIsReadBackFromItsStoredText() {
        for reason in RevocationReason.allCases {
            let text = Array(reason.rawValue.utf8)
            #expect(text.withUnsafeBufferPointer { Store.reason($0) } == reason)
        }
        for other in ["", "key-compromisE", "aa-compromisf", "superseded ", "x"] {
            #expect(Array(other.utf8).withUnsafeBufferPointer { Store.reason($0) } == .unspecified)
        }
    }

    @Test func theQueueIsBoundedAndAnAbandonedQueueStopsItsProducer() {
        let handoff = Handoff<Int>(capacity: 2)
        let produced = Background { () -> Int in
            var sent = 0
            for item in 0..<1_000 {
                guard handoff.send(item) else { break }
                sent += 1
            }
            handoff.close()
            return sent
        }
        #expect(handoff.receive() == 0)
        #expect(handoff.receive() == 1)
        handoff.abandon()
        // The producer stopped at the bound: at most the two received, two queued and one blocked.
        #expect((try? produced.value()).map { $0 <= 5 } == true)
        let closed = Handoff<Int>(capacity: 4)
        #expect(closed.send(1) && closed.send(2))
        closed.close()
        #expect(closed.receive() == 1 && closed.receive() == 2 && closed.receive() == nil)
    }
}
