import Foundation
@testable import IoTCAKit
import Testing
import TestSupport

/// A CA's facts kept by a node on a shared store while the database's facts epoch says nothing
/// in them changed (`Store.issuanceFacts`, schema v9): one read fewer per issuance, and every
/// change made on another node still seen by the next request that read its standing after it.
@Suite struct PostgresKeptFactsTests {
    /// A second opening of the fixture's store: another node, with its own keyring.
    func node(_ fixture: TemporaryStore) throws -> CertificateAuthority { CertificateAuthority(keyring: try fixture.anotherNode()) }

    /// An operator client, and a way to read its standing's facts epoch as a request would.
    func client(_ fixture: TemporaryStore) throws -> () throws -> FactsEpoch {
        let authority = CertificateAuthority(keyring: fixture.keyring)
        let client = try authority.createClient("op-1", role: .operator, grants: [], into: fixture.folder.appending("clients"))
        return {
            let standing = try #require(try fixture.store.clientStanding(serial: client.entry.serial, der: client.entry.der))
            return try #require(standing.factsEpoch, "a shared store's standing carries the facts epoch")
        }
    }

    func request(_ thing: String, template: String = "device", epoch: FactsEpoch?, renew: Bool = false) -> IssueRequest {
        var request = IssueRequest(thing: thing, template: template, renew: renew)
        request.factsEpoch = epoch
        return request
    }

    func findings(_ fixture: TemporaryStore) throws -> [Finding] {
        try Doctor(store: fixture.store).examine().findings.filter { $0.check != "kdf" }
    }

    @Test func anIssuanceWithItsStandingsEpochSkipsTheCAsRead() throws {
        let server = try PostgresServer()
        let relay = try PostgresRelay(to: server.port)
        defer { relay.stop() }
        let fixture = try TemporaryStore(postgres: server, through: relay)
        let epoch = try client(fixture)
        _ = try fixture.issue(IssueRequest(thing: "warm"))  // the CA's facts read, and kept
        var before = relay.roundTrips
        _ = try fixture.issue(request("meter-1", epoch: try epoch()))
        let kept = relay.roundTrips - before
        before = relay.roundTrips
        _ = try epoch()
        _ = try fixture.issue(request("meter-2", epoch: nil))
        let read = relay.roundTrips - before
        // The standing, the record, the delivery mark; the CA's facts read again without the epoch.
        #expect(kept == read - 1, "with the epoch \(kept) round trips, without \(read)")
        #expect(kept <= 3)
        // An issuance does not move the epoch: a serving node keeps its facts under load.
        let first = try epoch()
        _ = try fixture.issue(request("meter-3", epoch: first))
        #expect(try epoch().stamp == first.stamp)
        #expect(try findings(fixture).isEmpty)
    }

    @Test func aCADisabledOnAnotherNodeIsRefusedOnTheNextRequest() throws {
        let fixture = try TemporaryStore(backend: .postgres)
        let epoch = try client(fixture)
        _ = try fixture.issue(request("meter-1", epoch: try epoch()))
        let kept = try epoch()
        _ = try node(fixture).setStatus(.disabled, of: "issuing")
        let now = try epoch()
        #expect(now.stamp != kept.stamp, "disabling a CA draws a new facts epoch")
        #expect(throws: AuthorityError.disabled("issuing")) { try fixture.issue(request("meter-2", epoch: now)) }
        #expect(try fixture.store.certificates(CertificateFilter(thing: "meter-2")).isEmpty)
        // Enabled again there, issuing again here.
        _ = try node(fixture).setStatus(.active, of: "issuing")
        _ = try fixture.issue(request("meter-2", epoch: try epoch()))
        #expect(try findings(fixture).isEmpty)
    }

    /// A caller that authenticated, then sends its body slowly while an operator disables the CA:
    /// its epoch is the one from before. Within `FactsEpoch.freshFor` the plan trusts the kept
    /// facts and the record refuses the CA; once older, the epoch vouches for nothing and the
    /// plan refuses it.
    @Test func anEpochReadBeforeADisableIssuesNothing() throws {
        let fixture = try TemporaryStore(backend: .postgres)
        let epoch = try client(fixture)
        _ = try fixture.issue(request("meter-1", epoch: try epoch()))
        let early = try epoch()
        _ = try node(fixture).setStatus(.disabled, of: "issuing")
        #expect(throws: AuthorityError.disabled("issuing")) { try fixture.issue(request("meter-2", epoch: early)) }
        fixture.clock.advance(by: FactsEpoch.freshFor + 0.001)
        #expect(throws: AuthorityError.disabled("issuing")) { try fixture.issue(request("meter-2", epoch: early)) }
        // A clock set back vouches for nothing either.
        fixture.clock.advance(by: -10)
        #expect(throws: AuthorityError.disabled("issuing")) { try fixture.issue(request("meter-2", epoch: early)) }
        #expect(try fixture.store.certificates(CertificateFilter(thing: "meter-2")).isEmpty)
    }

    @Test func aTemplateReplacedOnAnotherNodeIsUsedOnTheNextRequest() throws {
        let fixture = try TemporaryStore(backend: .postgres)
        let epoch = try client(fixture)
        let there = try node(fixture)
        _ = try there.addTemplate(from: try fixture.meterTemplate(validity: "30d"))
        let first = try fixture.issue(request("meter-1", template: "meter", epoch: try epoch()))
        _ = try there.addTemplate(from: try fixture.meterTemplate(validity: "60d"), replace: true)
        let second = try fixture.issue(request("meter-2", template: "meter", epoch: try epoch()))
        func days(_ result: IssueResult) -> Int {
            Int((result.entry.notAfter.timeIntervalSince(result.entry.notBefore) / 86_400).rounded())
        }
        #expect(days(first) == 30)
        #expect(days(second) == 60, "the template replaced on the other node")
    }

    @Test func aConflictTheKeptFactsCannotSeeIsRefusedByTheRecord() throws {
        let fixture = try TemporaryStore(backend: .postgres)
        let epoch = try client(fixture)
        let first = try fixture.issue(request("meter-1", epoch: try epoch()))
        // Issued on another node meanwhile, or here: the kept facts do not list the thing's certificates.
        // (Into another folder: the bundle folder's own check would refuse first.)
        let authority = CertificateAuthority(keyring: fixture.keyring)
        #expect(throws: IssuanceConflict(thing: "meter-1", activeSerials: [first.entry.serial.hex])) {
            try authority.issue(request("meter-1", epoch: try epoch()), into: fixture.folder.appending("elsewhere"))
        }
        #expect(try fixture.store.certificates(CertificateFilter(thing: "meter-1")).map(\.serial) == [first.entry.serial])
        // A renewal goes through and names the one it renews.
        let renewed = try fixture.issue(request("meter-1", epoch: try epoch(), renew: true))
        #expect(renewed.entry.serial != first.entry.serial)
        let events = try fixture.store.events()
        #expect(events.filter { $0.action == "certificate.issue" && $0.subject == "meter-1" }.count == 1)
        #expect(events.filter { $0.action == "certificate.renew" && $0.subject == "meter-1" }.count == 1)
        #expect(try findings(fixture).isEmpty)
    }
}
