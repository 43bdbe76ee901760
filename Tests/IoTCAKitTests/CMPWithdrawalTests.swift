import Crypto
import Foundation
@testable import IoTCAKit
import SwiftASN1
import Testing
import TestSupport
import X509

/// What a withdrawn CMP certificate gives back, and the store-wide guards: a replay sent to
/// another node, a transaction used twice, a client that gives up, a greedy general message.
@Suite struct CMPWithdrawalTests {
    typealias Fixture = CMPResponderTests.Fixture

    @Test(arguments: TemporaryStore.Backend.allCases)
    func aWithdrawnEnrolmentGivesTheTokenBack(_ backend: TemporaryStore.Backend) throws {
        let fixture = try Fixture(backend)
        let client = try fixture.client("pump-1")
        _ = try fixture.enrol(client)
        #expect(try fixture.store.store.enrolmentToken(thing: "pump-1") == nil)  // spent
        fixture.store.clock.advance(by: fixture.responder.confirmationWait + 1)
        #expect(try fixture.responder.withdrawUnconfirmed(ca: fixture.ca).count == 1)
        // The device never had the certificate: its token is back, and it enrols again.
        #expect(try fixture.store.store.enrolmentToken(thing: "pump-1") != nil)
        var again = client
        again.transactionID = SecureRandom.bytes(16)
        _ = try fixture.enrol(again, implicitConfirm: true)
        #expect(try fixture.status(of: "pump-1").sorted { $0.rawValue < $1.rawValue } == [.active, .revoked])
    }

    @Test func aClientThatGivesUpHasItsCertificateWithdrawnAtOnce() throws {
        let fixture = try Fixture()
        let client = try fixture.client("pump-2")
        let (ip, _) = try fixture.enrol(client)
        let error = CMPMessageWriter.errorContent(CMPFailure(.badCertId, "not the certificate I asked for"))
        // An error that does not answer the certificate's answer (a reflected answer of the CA,
        // keyed with the same secret, looks like this) withdraws nothing.
        let unanswered = fixture.send(try client.message(tag: 23, body: error, now: fixture.store.clock.now))
        #expect(unanswered.failure == nil)
        #expect(try fixture.status(of: "pump-2") == [.active])
        let answer = fixture.send(try client.message(tag: 23, body: error, now: fixture.store.clock.now, recipientNonce: ip.header.senderNonce))
        #expect(answer.failure == nil)
        #expect(try CMPTestAnswer(answer.der).bodyTag == 19)
        #expect(try fixture.status(of: "pump-2") == [.revoked])
        #expect(try fixture.store.store.enrolmentToken(thing: "pump-2") != nil)
    }

    /// A certificate awaiting its confirmation is no credential: it renews nothing (EST
    /// re-enrolment here; CMP's key update in `CMPTests`).
    @Test func anUnconfirmedCertificateRenewsNothing() throws {
        let fixture = try Fixture()
        let (_, held) = try fixture.enrol(try fixture.client("pump-7"))
        let key = P256.Signing.PrivateKey()
        let csr = try CertificateSigningRequest(version: .v1, subject: try Certificate(derEncoded: held).subject, privateKey: .init(key),
                                                attributes: .init(), signatureAlgorithm: .ecdsaWithSHA256)
        var serializer = DER.Serializer()
        try serializer.serialize(csr)
        #expect(throws: EnrolmentError.self) { try fixture.ca.reenrol(current: held, csr: serializer.serializedBytes) }
        #expect(try fixture.status(of: "pump-7") == [.active])
    }

    /// A withdrawal gives back only what the device cannot have used: nothing when an operator
    /// revoked the certificate first, nothing when the thing has a newer certificate.
    @Test func aWithdrawalAfterOtherActionGivesNothingBack() throws {
        let fixture = try Fixture()
        let first = try fixture.client("pump-8")
        let (_, held) = try fixture.enrol(first)
        _ = try fixture.ca.revoke(.serial(SerialNumber(try Certificate(derEncoded: held).serialNumber), authority: nil), reason: .keyCompromise)
        let second = try fixture.client("pump-9")
        _ = try fixture.enrol(second)
        // The operator gives pump-9 a new token, which the device spends at once.
        var replacement = try fixture.client("pump-9")
        replacement.transactionID = SecureRandom.bytes(16)
        _ = try fixture.enrol(replacement, implicitConfirm: true)
        fixture.store.clock.advance(by: fixture.responder.confirmationWait + 1)
        let withdrawn = try fixture.responder.withdrawUnconfirmed(ca: fixture.ca)
        #expect(withdrawn.map(\.thing) == ["pump-9"])  // pump-8's was revoked already
        #expect(try fixture.store.store.enrolmentToken(thing: "pump-8") == nil)
        #expect(try fixture.store.store.enrolmentToken(thing: "pump-9") == nil)
    }

    /// A claim's enrolment, withdrawn, re-opens the thing only if it spent an operator's
    /// re-opening; a new thing stays closed to claims (a device revoked later for key compromise
    /// must not be re-enrolled by whoever holds the claim).
    @Test func aWithdrawnClaimEnrolmentGivesBackOnlyTheOpeningItSpent() throws {
        let fixture = try Fixture()
        let now = fixture.store.clock.now
        for (thing, kind) in [("new-1", PendingConfirmation.Kind.claim), ("reopened-1", .claimReopened)] {
            #expect(try fixture.store.store.reserveConfirmation(transactionID: thing, thing: thing, nonce: "00",
                                                                hold: CMPHold(kind: kind, credential: "cert:00"), due: now.addingTimeInterval(60)))
            let entry = try fixture.store.issue(IssueRequest(thing: thing)).entry
            try fixture.store.store.bindConfirmation(transactionID: thing, serial: entry.serial, authority: entry.authority)
        }
        fixture.store.clock.advance(by: 61)
        #expect(try fixture.responder.withdrawUnconfirmed(ca: fixture.ca).count == 2)
        let openings = try fixture.store.store.read { db in try db.values(String.self, "SELECT thing FROM claim_openings") }
        #expect(openings == ["reopened-1"])
    }

    /// Two nodes of one store: a key update (the one request nothing else makes one-shot) one
    /// node has received is a replay at the other, and after a restart.
    @Test(arguments: TemporaryStore.Backend.allCases)
    func aReplayedKeyUpdateIsRefusedOnAnotherNode(_ backend: TemporaryStore.Backend) throws {
        let fixture = try Fixture(backend)
        let otherNode = CMPResponder()
        let client = try fixture.client("pump-3")
        let request = try CMPClientRequest.certificationRequest(key: P256.Signing.PrivateKey(), subject: "pump-3")
        let message = try client.message(tag: 7, body: request, now: fixture.store.clock.now)
        // (Protected by a token, not a certificate: refused, but received.)
        #expect(fixture.send(message).failure?.bit == .notAuthorized)
        #expect(otherNode.respond(to: message, label: nil, ca: fixture.ca).failure?.bit == .badSenderNonce)
        // Remembered twice the time window, then forgotten (older messages are refused by time).
        fixture.store.clock.advance(by: 2 * CMPResponder.timeWindow + 1)
        _ = try fixture.responder.withdrawUnconfirmed(ca: fixture.ca)
        #expect(try fixture.store.store.read { db in try db.value(Int.self, "SELECT COUNT(*) FROM cmp_nonces") } == 0)
        #expect(CMPResponder().respond(to: message, label: nil, ca: fixture.ca).failure?.bit == .badTime)
    }

    @Test func aTransactionAwaitingConfirmationTakesNoSecondRequest() throws {
        let fixture = try Fixture()
        let client = try fixture.client("pump-4")
        _ = try fixture.enrol(client)
        // A new token, the same transaction: refused before anything is issued or spent.
        let second = CMPClientRequest(thing: "pump-4", secret: try fixture.ca.createEnrolmentToken(thing: "pump-4").secret)
        var sameTransaction = second
        sameTransaction.transactionID = client.transactionID
        let request = try CMPClientRequest.certificationRequest(key: P256.Signing.PrivateKey(), subject: "pump-4")
        let answer = fixture.send(try sameTransaction.message(tag: 0, body: request, now: fixture.store.clock.now))
        #expect(answer.failure?.bit == .transactionIdInUse)
        #expect(try fixture.status(of: "pump-4").count == 1)
        #expect(try fixture.store.store.enrolmentToken(thing: "pump-4") != nil)
    }

    @Test func aGeneralMessageAsksForEachTypeOnceAndAFew() throws {
        let fixture = try Fixture()
        let client = try fixture.client("pump-5")
        let twice = CMPClientRequest.general([CMPResponder.crlStatusListOID, CMPResponder.crlStatusListOID])
        #expect(fixture.send(try client.message(tag: 21, body: twice, now: fixture.store.clock.now)).failure?.bit == .badRequest)
        let many = CMPClientRequest.general((0..<9).map { ASN1ObjectIdentifier(arrayLiteral: 1, 3, 6, 1, 5, 5, 7, 4, 100 + UInt($0)) })
        #expect(fixture.send(try client.message(tag: 21, body: many, now: fixture.store.clock.now)).failure?.bit == .badRequest)
    }

    /// Refusals before the client proves itself count against its address; unknown body
    /// types all carry one metric name.
    @Test func everyRefusalBeforeAuthenticationCountsAndBodyNamesAreBounded() throws {
        let fixture = try Fixture()
        for garbage in [[0x30, 0x00], Array(repeating: UInt8(0xFF), count: 20)] {
            let answer = fixture.send(garbage)
            #expect(answer.authenticationFailed && answer.request == "unknown")
        }
        let client = try fixture.client("pump-6")
        let wrongSecret = CMPClientRequest(thing: "pump-6", secret: "not the token")
        let guessed = fixture.send(try wrongSecret.message(tag: 21, body: CMPClientRequest.general([CMPResponder.caCertsOID]),
                                                           now: fixture.store.clock.now))
        #expect(guessed.failure?.bit == .badMessageCheck && guessed.authenticationFailed)
        // Refused after the client proved itself: not counted against its address.
        let odd = fixture.send(try client.message(tag: 30, body: [0x05, 0x00], now: fixture.store.clock.now))
        #expect(odd.request == "other" && odd.failure?.bit == .badRequest && !odd.authenticationFailed)
    }

    /// Killed between the issuance and binding it to its reservation: the timer finds the
    /// certificate through the issuance's audit event and withdraws it; killed before the
    /// issuance: the reservation goes and nothing is revoked.
    @Test(arguments: TemporaryStore.Backend.allCases)
    func aReservationLeftByAKilledProcessIsFinished(_ backend: TemporaryStore.Backend) throws {
        let fixture = try Fixture(backend)
        let now = fixture.store.clock.now
        let hold = CMPHold(kind: .claim, credential: "cert:00")
        #expect(try fixture.store.store.reserveConfirmation(transactionID: "aa01", thing: "valve-1", nonce: "00", hold: hold,
                                                            due: now.addingTimeInterval(60)))
        // A second request in the same transaction finds it taken.
        #expect(try !fixture.store.store.reserveConfirmation(transactionID: "aa01", thing: "valve-1", nonce: "00", hold: hold,
                                                             due: now.addingTimeInterval(60)))
        let issued = try AuditEvent.$client.withValue("claim:batch-1:00 " + CMPResponder.auditClient("aa01")) {
            try fixture.store.issue(IssueRequest(thing: "valve-1")).entry
        }
        #expect(try fixture.store.store.reserveConfirmation(transactionID: "aa02", thing: "valve-2", nonce: "00", hold: hold,
                                                            due: now.addingTimeInterval(60)))
        let other = try fixture.store.issue(IssueRequest(thing: "valve-2")).entry  // not this transaction's
        fixture.store.clock.advance(by: 61)
        let withdrawn = try fixture.responder.withdrawUnconfirmed(ca: fixture.ca)
        #expect(withdrawn.map(\.serial) == [issued.serial])
        #expect(try fixture.status(of: "valve-2") == [.active])
        #expect(other.status == .active)
        let left = try fixture.store.store.read { db in try db.value(Int.self, "SELECT COUNT(*) FROM cmp_confirmations") }
        #expect(left == 0)
    }
}
