import Crypto
import Foundation
@testable import IoTCAKit
import Synchronization
import Testing
import TestSupport
import X509

/// Enrolment tokens and re-enrolment in the library: what the EST routes call.
@Suite struct EnrolmentTests {
    static func csr(_ subject: String = "x") throws -> [UInt8] {
        let request = try CertificateSigningRequest(version: .v1, subject: try DistinguishedName { CommonName(subject) },
                                                    privateKey: .init(P256.Signing.PrivateKey()), attributes: .init(),
                                                    signatureAlgorithm: .ecdsaWithSHA256)
        return Array(try request.serializeAsPEM().pemString.utf8)
    }

    // One secret sent eight times at once enrols once: `SharedStoreTests.enrolmentIsOnceAcrossNodes`,
    // on both engines and through two openings of the store.

    @Test func aFailedIssuancePutsTheTokenBackAndANewTokenReplacesTheOld() throws {
        let fixture = try TemporaryStore(encrypted: false)
        let authority = CertificateAuthority(keyring: fixture.keyring)
        let first = try authority.createEnrolmentToken(thing: "sensor-5")
        // A broken CSR: refused by policy, and the token is still good afterwards.
        #expect(throws: PolicyError.self) { try authority.enrol(thing: "sensor-5", secret: first.secret, csr: Array("junk".utf8)) }
        // A label naming another template: refused, token kept.
        #expect(throws: PolicyError.self) { try authority.enrol(thing: "sensor-5", secret: first.secret, csr: try Self.csr(), template: "server") }
        // A new token replaces the first.
        let second = try authority.createEnrolmentToken(thing: "sensor-5")
        #expect(throws: EnrolmentError.invalidCredentials(thing: "sensor-5")) {
            try authority.enrol(thing: "sensor-5", secret: first.secret, csr: try Self.csr())
        }
        let enrolled = try authority.enrol(thing: "sensor-5", secret: second.secret, csr: try Self.csr())
        #expect(enrolled.entry.thing == "sensor-5" && enrolled.entry.template == "device")
        // Tokens are for device templates only, and for valid thing names.
        #expect(throws: PolicyError.self) { try authority.createEnrolmentToken(thing: "s", template: "station") }
        #expect(throws: PolicyError.self) { try authority.createEnrolmentToken(thing: "bad name!") }
        #expect(throws: PolicyError.self) { try authority.createEnrolmentToken(thing: "s", template: "no-such-template") }
    }

    @Test func anExpiredTokenIsRefusedAndKept() throws {
        let fixture = try TemporaryStore(encrypted: false)
        let authority = CertificateAuthority(keyring: fixture.keyring)
        let token = try authority.createEnrolmentToken(thing: "slow", expires: try ValidityPeriod("1h"))
        fixture.clock.advance(by: 3_601)
        #expect(throws: EnrolmentError.self) { try authority.enrol(thing: "slow", secret: token.secret, csr: try Self.csr()) }
        #expect(try fixture.store.certificates(CertificateFilter(thing: "slow")).isEmpty)
    }

    @Test func theReplacedCertificateOutlivesItsRenewalByTheGracePeriodThenIsSuperseded() throws {
        let fixture = try TemporaryStore(encrypted: false)
        let authority = CertificateAuthority(keyring: fixture.keyring)
        let device = try fixture.issue(IssueRequest(thing: "meter-1"))
        let current = try Certificate(derEncoded: device.entry.der)
        let request = try CertificateSigningRequest(version: .v1, subject: current.subject, privateKey: .init(P256.Signing.PrivateKey()),
                                                    attributes: .init(), signatureAlgorithm: .ecdsaWithSHA256)
        let renewed = try authority.reenrol(current: device.entry.der, csr: Array(try request.serializeAsPEM().pemString.utf8))
        #expect(renewed.entry.thing == "meter-1" && renewed.entry.serial != device.entry.serial)
        // Within the day: both valid, and the sweep leaves them.
        fixture.clock.advance(by: 86_399)
        #expect(try authority.supersedeDue().isEmpty)
        #expect(try fixture.store.activeSerials(thing: "meter-1").count == 2)
        fixture.clock.advance(by: 2)
        let swept = try authority.supersedeDue()
        #expect(swept.map(\.serial) == [device.entry.serial])
        #expect(try fixture.store.activeSerials(thing: "meter-1") == [renewed.entry.serial])
        let old = try fixture.store.certificates(CertificateFilter(thing: "meter-1")).first { $0.serial == device.entry.serial }
        #expect(old?.status == .revoked && old?.revocationReason == "superseded")
        #expect(try authority.supersedeDue().isEmpty)  // done once
        // The renewed certificate re-enrols too; a CSR with another subject does not.
        let other = try CertificateSigningRequest(version: .v1, subject: try DistinguishedName { CommonName("meter-2") },
                                                  privateKey: .init(P256.Signing.PrivateKey()), attributes: .init(), signatureAlgorithm: .ecdsaWithSHA256)
        #expect(throws: EnrolmentError.self) {
            try authority.reenrol(current: renewed.entry.der, csr: Array(try other.serializeAsPEM().pemString.utf8))
        }
        // The superseded certificate may no longer renew itself.
        #expect(throws: EnrolmentError.notRenewable(reason: "certificate \(device.entry.serial.hex) is revoked")) {
            try authority.reenrol(current: device.entry.der, csr: Array(try request.serializeAsPEM().pemString.utf8))
        }
    }

    /// The service's timer and cron may sweep at the same moment: each due certificate is
    /// revoked once, and neither sweep fails.
    @Test func twoSweepsAtOnceRevokeEachDueCertificateOnce() throws {
        let fixture = try TemporaryStore(encrypted: false)
        let authority = CertificateAuthority(keyring: fixture.keyring)
        for index in 0..<6 {
            let device = try fixture.issue(IssueRequest(thing: "swept-\(index)"))
            let subject = try Certificate(derEncoded: device.entry.der).subject
            let request = try CertificateSigningRequest(version: .v1, subject: subject, privateKey: .init(P256.Signing.PrivateKey()),
                                                        attributes: .init(), signatureAlgorithm: .ecdsaWithSHA256)
            _ = try authority.reenrol(current: device.entry.der, csr: Array(try request.serializeAsPEM().pemString.utf8))
        }
        fixture.clock.advance(by: 86_401)
        let swept = Mutex<[SerialNumber]>([]), failures = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 2) { _ in
            do {
                let revoked = try CertificateAuthority(keyring: fixture.keyring).supersedeDue()
                swept.withLock { $0 += revoked.map(\.serial) }
            } catch {
                failures.withLock { $0.append("\(error)") }
            }
        }
        #expect(failures.withLock { $0 }.isEmpty)
        #expect(swept.withLock { $0.count } == 6 && Set(swept.withLock { $0 }).count == 6)
        for index in 0..<6 { #expect(try fixture.store.activeSerials(thing: "swept-\(index)").count == 1) }
    }

    @Test func aTemplateSetsItsOwnGraceAndABadOneIsRefused() throws {
        let text = #"{"name": "short", "keyType": "ec-p256", "validity": "12h", "renewalGrace": "2h", "subject": {"commonName": "{thing}"}, "keyUsage": ["digitalSignature"], "ca": false}"#
        let template = try Template.parse(Data(text.utf8), source: "short.json")
        #expect(template.renewalGraceSeconds == 7_200)
        #expect(throws: PolicyError.self) {
            try Template.parse(Data(text.replacingOccurrences(of: "\"2h\"", with: "\"soon\"").utf8), source: "bad.json")
        }
    }
}
