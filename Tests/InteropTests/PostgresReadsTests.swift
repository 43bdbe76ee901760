import Foundation
@testable import IoTCAKit
import Testing
import TestSupport

/// The hot reads as PostgreSQL functions (`PostgresReads`): the same rows as the plain
/// statements, and still right after a later migration changes a table they read.
@Suite struct PostgresReadsTests {
    func rows(_ store: Store, _ sql: String, _ arguments: SQLValue...) throws -> [([String], [SQLValue])] {
        try store.readOne { db in try db.rows(sql, arguments).map { ($0.columns.names, $0.values) } }
    }

    @Test func theFunctionsGiveThePlainStatementsRows() throws {
        let fixture = try TemporaryStore(backend: .postgres)
        let authority = CertificateAuthority(keyring: fixture.keyring)
        let grants = [try ClientGrant(parsing: "server:gw-*"), try ClientGrant(parsing: "device:line-*"), try ClientGrant(parsing: "device:a-*")]
        let station = try authority.createClient("line-1", role: .station, grants: grants, into: fixture.folder.appending("clients"))
        // A thing with two active certificates (renewed, the old one not superseded), one with none.
        _ = try fixture.issue(IssueRequest(thing: "meter-1"))
        _ = try authority.issue(IssueRequest(thing: "meter-1", renew: true, force: true), into: fixture.folder.appending("renewed"))
        for (thing, ca) in [("meter-1", "issuing"), ("nothing-yet", "issuing"), ("meter-1", "no-such-ca")] {
            let plain = try rows(fixture.store, Store.issuanceFactsQuery, .text(thing), .text(ca))
            // The function's rows end with the facts epoch, which the plain statement has not.
            let function = try rows(fixture.store, PostgresReads.issuanceFacts, .text(thing), .text(ca)).map { ($0.0.dropLast(), $0.1.dropLast()) }
            #expect(function.map { Array($0.0) } == plain.map(\.0) && function.map { Array($0.1) } == plain.map(\.1), "\(thing) of \(ca)")
        }
        #expect(try rows(fixture.store, PostgresReads.issuanceFacts, .text("meter-1"), .text("issuing")).count == 2)
        for serial in [station.entry.serial.hex, "00ab", try #require(fixture.store.activeSerials(thing: "meter-1").first).hex] {
            let plain = try rows(fixture.store, Store.clientStandingQuery, .text(serial))
            let function = try rows(fixture.store, PostgresReads.clientStanding, .text(serial))
            #expect(function.map { Array($0.1.dropLast()) } == plain.map(\.1), "client standing of \(serial)")
        }
        #expect(try rows(fixture.store, PostgresReads.clientStanding, .text(station.entry.serial.hex)).count == 3)
    }

    @Test func aColumnALaterMigrationAddsReachesTheCAsRow() throws {
        let fixture = try TemporaryStore(backend: .postgres)
        _ = try fixture.issue(IssueRequest(thing: "meter-1"))
        try fixture.store.write { db in
            try db.execute("ALTER TABLE authorities ADD COLUMN later_column TEXT NOT NULL DEFAULT 'later'")
        }
        _ = try fixture.issue(IssueRequest(thing: "meter-2"))
        let facts = try rows(fixture.store, PostgresReads.issuanceFacts, .text("meter-2"), .text("issuing"))
        let (names, values) = try #require(facts.first)
        let index = try #require(names.firstIndex(of: "later_column"))
        #expect(values[index] == .text("later"))
        #expect(try fixture.store.issuanceFacts(authority: "issuing", thing: "meter-2").active?.count == 1)
        let findings = try Doctor(store: fixture.store).examine().findings.filter { $0.check != "kdf" }
        #expect(findings.isEmpty, "\(findings)")
    }
}
