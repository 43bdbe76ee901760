import Foundation
import IoTCAKit
import Testing
import TestSupport

/// Round trips to PostgreSQL, counted on the wire by a relay between the store and the server
/// (`PostgresRelay`: every Sync and simple Query the client sends), not by reading iotca's code.
/// On a database in another rack each one costs a network round trip.
@Suite(.serialized) struct PostgresRoundTripTests {
    /// Round trips of `body`, after one warm-up run of it (caches filled, as on a serving node).
    func roundTrips(_ relay: PostgresRelay, warm: () throws -> Void, _ body: () throws -> Void) throws -> Int {
        try warm()
        let before = relay.roundTrips
        try body()
        return relay.roundTrips - before
    }

    @Test func anIssuanceAndAnOCSPLookupInFewRoundTrips() throws {
        let server = try PostgresServer()
        let relay = try PostgresRelay(to: server.port)
        defer { relay.stop() }
        let fixture = try TemporaryStore(postgres: server, through: relay)
        let issuance = try roundTrips(relay, warm: { _ = try fixture.issue(IssueRequest(thing: "warm")) }) {
            _ = try fixture.issue(IssueRequest(thing: "meter-1"))
        }
        let renewal = try roundTrips(relay, warm: { _ = try fixture.issue(IssueRequest(thing: "warm", renew: true)) }) {
            _ = try fixture.issue(IssueRequest(thing: "meter-1", renew: true))
        }
        let serial = try #require(try fixture.store.certificates(CertificateFilter(thing: "meter-1")).first?.serial)
        let lookup = try roundTrips(relay, warm: { _ = try fixture.store.certificates(serial: serial) }) {
            _ = try fixture.store.certificates(serial: serial)
        }
        print("PostgreSQL round trips: issuance \(issuance), renewal \(renewal), lookup by serial \(lookup)")
        // Before: 16 and 17 (the plan's reads in a transaction, the record's seven statements
        // under the store-wide lock, the delivery mark in a transaction of its own). Now: the
        // plan's read, the record in one call (`PostgresIssuance`), the mark; a renewal also
        // reads the thing's next key.
        #expect(issuance <= 3, "an issuance took \(issuance) round trips")
        #expect(renewal <= 4, "a renewal took \(renewal) round trips")
        #expect(lookup == 1)
        // Every one of them is in the store, and the chain is intact.
        #expect(try fixture.store.certificates(CertificateFilter(thing: "meter-1")).count == 2)
        // (The fixture's keys use a fast KDF on purpose: doctor names them.)
        let findings = try Doctor(store: fixture.store).examine().findings.filter { $0.check != "kdf" }
        #expect(findings.isEmpty, "\(findings)")
    }
}
