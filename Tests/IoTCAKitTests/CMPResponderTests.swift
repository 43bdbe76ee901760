import Crypto
import Foundation
@testable import IoTCAKit
import SwiftASN1
import Testing
import TestSupport
import X509

/// The CMP responder called directly, on the store's manual clock: what needs time to pass
/// (a confirmation that never comes), what OpenSSL 3.0's client cannot ask (the next root,
/// CRLs), and what no honest client sends.
@Suite struct CMPResponderTests {
    struct Fixture {
        let store: TemporaryStore
        let ca: CertificateAuthority
        let responder = CMPResponder()

        init(_ backend: TemporaryStore.Backend = .sqlite) throws {
            store = try TemporaryStore(backend: backend)
            ca = CertificateAuthority(keyring: store.keyring)
        }

        func client(_ thing: String) throws -> CMPClientRequest {
            CMPClientRequest(thing: thing, secret: try ca.createEnrolmentToken(thing: thing).secret)
        }

        func send(_ der: [UInt8]) -> CMPResponder.Answer { responder.respond(to: der, label: nil, ca: ca) }

        /// An ir for `client`'s thing; the answer and its certificate.
        func enrol(_ client: CMPClientRequest, implicitConfirm: Bool = false) throws -> (CMPTestAnswer, [UInt8]) {
            let request = try CMPClientRequest.certificationRequest(key: P256.Signing.PrivateKey(), subject: client.thing)
            let answer = send(try client.message(tag: 0, body: request, now: store.clock.now, implicitConfirm: implicitConfirm))
            #expect(answer.failure == nil, "\(String(describing: answer.failure))")
            let parsed = try CMPTestAnswer(answer.der)
            #expect(parsed.bodyTag == 1)
            #expect(try parsed.isMACProtected(with: client.secret), "the answer is keyed with the token")
            return (parsed, try #require(parsed.certificate))
        }

        func status(of thing: String) throws -> [CertificateEntry.Status] {
            try store.store.certificates(CertificateFilter(thing: thing)).map(\.status)
        }
    }

    @Test(arguments: TemporaryStore.Backend.allCases)
    func anUnconfirmedCertificateIsWithdrawnWhenItsWaitIsOver(_ backend: TemporaryStore.Backend) throws {
        let fixture = try Fixture(backend)
        let client = try fixture.client("meter-1")
        _ = try fixture.enrol(client)
        #expect(try fixture.status(of: "meter-1") == [.active])
        fixture.store.clock.advance(by: fixture.responder.confirmationWait - 1)
        #expect(try fixture.responder.withdrawUnconfirmed(ca: fixture.ca).isEmpty)
        fixture.store.clock.advance(by: 2)
        let withdrawn = try fixture.responder.withdrawUnconfirmed(ca: fixture.ca)
        #expect(withdrawn.map(\.thing) == ["meter-1"])
        let entry = try #require(try fixture.store.store.certificates(CertificateFilter(thing: "meter-1")).first)
        #expect(entry.status == .revoked && entry.revocationReason == RevocationReason.cessationOfOperation.rawValue)
        #expect(try fixture.store.store.events().map(\.action).contains("cmp.unconfirmed"))
        // Published: the CRL lists it.
        let crl = try #require(try fixture.store.store.latestCRLDER(of: "issuing")).1
        let path = fixture.store.folder.path("issuing.crl")
        try Data(crl).write(to: URL(fileURLWithPath: path))
        let text = try OpenSSLCLI.run(["crl", "-inform", "DER", "-noout", "-text", "-in", path]).stdout
        #expect(text.lowercased().contains(entry.serial.hex.lowercased()) || text.uppercased().contains(entry.serial.hex.uppercased()))
        // A confirmation now comes too late.
        let late = fixture.send(try client.message(tag: 24, body: CMPClientRequest.confirmation(of: entry.der), now: fixture.store.clock.now))
        #expect(late.failure?.bit == .badMessageCheck || late.failure?.bit == .badRequest)
    }

    @Test func aConfirmationCarriesTheHashAndNonceOfItsAnswer() throws {
        let fixture = try Fixture()
        let client = try fixture.client("meter-2")
        let (answer, certificate) = try fixture.enrol(client)
        let now = fixture.store.clock.now
        let wrongHash = fixture.send(try client.message(tag: 24, body: CMPClientRequest.confirmation(of: certificate, hash: Array(repeating: 0, count: 32)),
                                                        now: now, recipientNonce: answer.header.senderNonce))
        #expect(wrongHash.failure?.bit == .badCertId)
        let wrongNonce = fixture.send(try client.message(tag: 24, body: CMPClientRequest.confirmation(of: certificate), now: now,
                                                         recipientNonce: SecureRandom.bytes(16)))
        #expect(wrongNonce.failure?.bit == .badRecipientNonce)
        // Another thing's token cannot confirm (or reject) this transaction.
        var stranger = try fixture.client("meter-3")
        stranger.transactionID = client.transactionID
        let foreign = fixture.send(try stranger.message(tag: 24, body: CMPClientRequest.confirmation(of: certificate, rejected: true), now: now,
                                                        recipientNonce: answer.header.senderNonce))
        #expect(foreign.failure?.bit == .badMessageCheck)
        #expect(try fixture.status(of: "meter-2") == [.active])
        let confirmed = fixture.send(try client.message(tag: 24, body: CMPClientRequest.confirmation(of: certificate), now: now,
                                                        recipientNonce: answer.header.senderNonce))
        #expect(confirmed.failure == nil)
        #expect(try CMPTestAnswer(confirmed.der).bodyTag == 19)  // pkiConf
        #expect(try fixture.store.store.events().map(\.action).contains("cmp.confirmed"))
        fixture.store.clock.advance(by: fixture.responder.confirmationWait + 1)
        #expect(try fixture.responder.withdrawUnconfirmed(ca: fixture.ca).isEmpty)
        #expect(try fixture.status(of: "meter-2") == [.active])
    }

    @Test func implicitConfirmationHoldsNothing() throws {
        let fixture = try Fixture()
        let (answer, _) = try fixture.enrol(try fixture.client("meter-4"), implicitConfirm: true)
        #expect(answer.header.implicitConfirm)
        fixture.store.clock.advance(by: fixture.responder.confirmationWait + 1)
        #expect(try fixture.responder.withdrawUnconfirmed(ca: fixture.ca).isEmpty)
        #expect(try fixture.status(of: "meter-4") == [.active])
    }

    @Test func generalMessagesAnswerTheNextRootAndTheCRLs() throws {
        let fixture = try Fixture()
        _ = try RevocationService(keyring: fixture.store.keyring).publishAll()
        // A store made before next roots were certified in advance has none to offer.
        let prepared = try fixture.store.store.standbyKeys()
        try fixture.store.store.write { db in _ = try db.execute("UPDATE standby_keys SET certificate_der = NULL") }
        let client = try fixture.client("gateway-1")
        let unknown: ASN1ObjectIdentifier = [1, 3, 6, 1, 5, 5, 7, 4, 99]
        let asked = CMPClientRequest.general([CMPResponder.rootCaCertOID, CMPResponder.crlStatusListOID, CMPResponder.caCertsOID, unknown])
        let before = try CMPTestAnswer(fixture.send(try client.message(tag: 21, body: asked, now: fixture.store.clock.now)).der)
        #expect(before.bodyTag == 22)
        let items = before.generalItems
        #expect(items.map(\.0) == [CMPResponder.rootCaKeyUpdateOID, CMPResponder.crlsOID, CMPResponder.caCertsOID, unknown])
        #expect(items[0].1 == nil, "no next root is prepared")
        #expect(items[3].1 == nil)
        let crls = try ASN1Reading.children(of: try #require(items[1].1), expecting: .sequence).map { Array($0.encodedBytes) }
        #expect(crls.contains(try #require(try fixture.store.store.latestCRLDER(of: "issuing")).1))
        #expect(crls.contains(try #require(try fixture.store.store.latestCRLDER(of: "root")).1))
        let caCerts = try ASN1Reading.children(of: try #require(items[2].1), expecting: .sequence).map { Array($0.encodedBytes) }
        let chain = try fixture.ca.chain(of: "issuing")
        #expect(caCerts == chain.intermediates + [chain.root])
        // Once the next root is certified, rootCaKeyUpdate carries it as newWithNew.
        let standby = try #require(try AuthorityManager(keyring: fixture.store.keyring).prepareNextRoots().first)
        #expect(!prepared.isEmpty)
        let after = try CMPTestAnswer(fixture.send(try client.message(tag: 21, body: CMPClientRequest.general([CMPResponder.rootCaCertOID]),
                                                                      now: fixture.store.clock.now)).der)
        let update = try ASN1Reading.children(of: try #require(after.generalItems.first?.1), expecting: .sequence)
        #expect(Array(try #require(update.first).encodedBytes) == standby.certificateDER)
        let path = fixture.store.folder.path("next-root.pem")
        try Data(IssuedCertificate.pem(Array(try #require(update.first).encodedBytes)).utf8).write(to: URL(fileURLWithPath: path))
        let verified = try OpenSSLCLI.run(["verify", "-x509_strict", "-CAfile", path, path])
        #expect(verified.succeeded, "\(verified.stderr)")
        // A general message spends no token: the thing still enrols.
        _ = try fixture.enrol(client)
    }

    @Test func aRepeatedOrStaleMessageIsRefused() throws {
        let fixture = try Fixture()
        let client = try fixture.client("gateway-2")
        let message = try client.message(tag: 21, body: CMPClientRequest.general([CMPResponder.caCertsOID]), now: fixture.store.clock.now)
        #expect(fixture.send(message).failure == nil)
        #expect(fixture.send(message).failure?.bit == .badSenderNonce)
        let stale = try client.message(tag: 21, body: CMPClientRequest.general([CMPResponder.caCertsOID]),
                                       now: fixture.store.clock.now.addingTimeInterval(-CMPResponder.timeWindow - 60))
        #expect(fixture.send(stale).failure?.bit == .badTime)
    }

    /// Truncations, flipped bytes and garbage: every one answered with a CMP error, and the
    /// store unchanged (no certificate, the token unspent).
    @Test func hostileMessagesAreAnsweredWithErrorsAndChangeNothing() throws {
        let fixture = try Fixture()
        let client = try fixture.client("target-1")
        let request = try CMPClientRequest.certificationRequest(key: P256.Signing.PrivateKey(), subject: "target-1")
        let valid = try client.message(tag: 0, body: request, now: fixture.store.clock.now)
        var hostile: [[UInt8]] = [[], [0x30], [0x30, 0x80], Array(repeating: 0xFF, count: 300), Array(valid.prefix(valid.count / 2)),
                                  Array(valid.dropLast()), valid + [0x00], Array(repeating: 0x30, count: CMPMessage.sizeLimit + 1)]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            var flipped = valid
            let index = Int.random(in: 0..<flipped.count, using: &generator)
            flipped[index] ^= UInt8.random(in: 1...255, using: &generator)
            hostile.append(flipped)
        }
        let eventsBefore = try fixture.store.store.events().count
        for message in hostile {
            let answer = fixture.send(message)
            #expect(answer.failure != nil, "\(message.count) bytes were accepted")
            #expect(!answer.der.isEmpty)
            #expect(try CMPTestAnswer(answer.der).bodyTag == 23)
        }
        #expect(try fixture.status(of: "target-1").isEmpty)
        #expect(try fixture.store.store.enrolmentToken(thing: "target-1") != nil)
        // The CMP signer certified for the signed errors is the only thing recorded.
        #expect(try fixture.store.store.events().dropFirst(eventsBefore).map(\.action).allSatisfy { $0 == "cmp.signer" })
        // The valid one still enrols.
        #expect(fixture.send(valid).failure == nil)
    }

    @Test func theIterationCountIsBounded() throws {
        for count in [99, CMPAlgorithms.PasswordBasedMAC.iterationLimit + 1, 1_000_000_000] {
            var writer = DERWriter()
            writer.element(0x30) { parameters in
                parameters.element(0x04) { $0.append(SecureRandom.bytes(16)) }
                parameters.element(0x30) { $0.append(DERWriter.objectIdentifier([2, 16, 840, 1, 101, 3, 4, 2, 1])) }
                parameters.unsignedInteger(UInt64(count))
                parameters.element(0x30) { $0.append(DERWriter.objectIdentifier([1, 2, 840, 113549, 2, 9])) }
            }
            #expect(throws: CMPFailure.self) { try CMPAlgorithms.PasswordBasedMAC(parameters: try DER.parse(writer.take())) }
        }
    }
}
