import Foundation
import Synchronization
@_spi(Fuzzing) @testable import IoTCAKit
import Testing
import TestSupport

@Suite struct RevocationTests {
    @Test func revokeBySerialAndByThingThenRefuseTwice() throws {
        let fixture = try TemporaryStore(encrypted: false)
        let first = try fixture.issue(IssueRequest(thing: "d1"))
        try fixture.issue(IssueRequest(thing: "d2"))
        let service = RevocationService(keyring: fixture.keyring)

        let outcome = try service.revoke(.serial(first.entry.serial, authority: nil), reason: .keyCompromise,
                                         invalidityDate: Date(timeIntervalSince1970: 1_790_000_000))
        #expect(outcome.revoked.map(\.serial) == [first.entry.serial])
        #expect(outcome.published.map(\.authority) == ["issuing"])
        #expect(outcome.published.first?.entries == 1)
        let stored = try fixture.store.certificate(matching: first.entry.serial.hex)
        #expect(stored.status == .revoked && stored.revocationReason == "key-compromise")

        let events = try fixture.store.events().count
        #expect(throws: RevocationError.self) { try service.revoke(.serial(first.entry.serial, authority: nil)) }
        #expect(throws: RevocationError.noActiveCertificate(thing: "d1")) { try service.revoke(.thing("d1")) }
        #expect(try fixture.store.events().count == events)

        let byThing = try service.revoke(.thing("d2"), reason: .cessationOfOperation)
        #expect(byThing.revoked.map(\.thing) == ["d2"])
        #expect(byThing.published.first?.entries == 2)
        #expect(AuditEvent.verifyChain(try fixture.store.events()))
    }

    @Test func unknownTargetsAreNotFound() throws {
        let fixture = try TemporaryStore(encrypted: false)
        let service = RevocationService(keyring: fixture.keyring)
        let serial = SerialNumber.random()
        #expect(throws: CertificateNotFound.self) { try service.revoke(.serial(serial, authority: nil)) }
        #expect(throws: CertificateNotFound.self) { try service.revoke(.thing("nobody")) }
        let issued = try fixture.issue(IssueRequest(thing: "d"))
        // The serial exists, but not under that CA.
        #expect(throws: CertificateNotFound.self) { try service.revoke(.serial(issued.entry.serial, authority: "root")) }
        #expect(throws: AuthorityError.notFound("nope")) { try service.publish("nope") }
    }

    @Test func crlNumbersStrictlyIncreaseAcrossConcurrentPublishers() throws {
        let fixture = try TemporaryStore(encrypted: false)
        let storeURL = fixture.storeURL
        let publishers = 4, rounds = 5
        let numbers = Mutex<[Int64]>([])
        let failures = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: publishers) { _ in
            do {
                // Each worker has its own connection pool, as separate processes would.
                let store = try Store.open(storeURL)
                let service = RevocationService(keyring: Keyring(store: store, passphrase: .fixed(nil)))
                for _ in 0..<rounds {
                    if let record = try service.publish("issuing") { numbers.withLock { $0.append(record.number) } }
                }
            } catch {
                failures.withLock { $0.append("\(error)") }
            }
        }
        #expect(failures.withLock { $0 }.isEmpty)
        let all = numbers.withLock { $0 }.sorted()
        #expect(all == Array(1...Int64(publishers * rounds)))
        // The file on disk is the newest CRL: publication never goes backwards.
        let der = Array(try Data(contentsOf: fixture.store.layout.publicFolder.appendingPathComponent("issuing.crl")))
        #expect(try CRLFile(der: der).number == Int64(publishers * rounds))
        // The publishers that lost the race to be newest discarded what they staged.
        let folder = fixture.store.layout.publicFolder.path
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.contains(".tmp-") }.isEmpty)
        // Recorded in whatever order the publishers finished; doctor judges the numbers' order.
        #expect(try Doctor(store: fixture.store).examine().findings.filter { $0.check == "crl" }.isEmpty)
    }

    @Test func ifDuePublishesOnlyWhenSomethingChangedOrTheCRLAges() throws {
        let fixture = try TemporaryStore(encrypted: false)
        let service = RevocationService(keyring: fixture.keyring)
        #expect(try service.publish("issuing", ifDue: true)?.number == 1)  // no CRL yet
        #expect(try service.publish("issuing", ifDue: true) == nil)
        let issued = try fixture.issue(IssueRequest(thing: "d"))
        // A revocation recorded but not published (a crash between the two) is picked up.
        _ = try service.revoke(.serial(issued.entry.serial, authority: nil), publish: false)
        let next = try service.publish("issuing", ifDue: true)
        #expect(next?.number == 2 && next?.entries == 1)
        #expect(try service.publish("issuing", ifDue: true) == nil)
        // A CRL valid for 1 minute is past half its life after 31 s: simulate with a tiny validity.
        try AuthorityManager(keyring: fixture.keyring).updateSettings(of: "issuing", crlValidity: try ValidityPeriod("1s"))
        _ = try service.publish("issuing")
        fixture.clock.advance(by: 1.1)
        #expect(try service.publish("issuing", ifDue: true) != nil)
    }

    /// The key is unlocked while the entries are read: a key that does not open rolls the
    /// draft back (no number spent, the revocation still due), due or not.
    @Test func aKeyThatDoesNotOpenPublishesNothing() throws {
        let fixture = try TemporaryStore()
        let service = RevocationService(keyring: fixture.keyring)
        // No CRL yet: the key is decrypted beside the draft, which waits for it before it commits.
        let wrong = RevocationService(keyring: Keyring(store: fixture.store, passphrase: .fixed(Passphrase("not the passphrase"))))
        #expect(throws: KeyError.self) { try wrong.publish("issuing") }
        #expect(try fixture.store.latestCRL(of: "issuing") == nil)
        // The first CRL is number 1: the failed draft spent no number. The next ones decrypt first.
        #expect(try service.publish("issuing")?.number == 1)
        let issued = try fixture.issue(IssueRequest(thing: "d"))
        _ = try service.revoke(.serial(issued.entry.serial, authority: nil), publish: false)
        let events = try fixture.store.events().count
        let locked = RevocationService(keyring: Keyring(store: fixture.store, passphrase: .fixed(Passphrase("not the passphrase"))))
        for ifDue in [false, true] {
            #expect(throws: KeyError.self) { try locked.publish("issuing", ifDue: ifDue) }
        }
        #expect(try fixture.store.events().count == events)
        let next = try service.publish("issuing", ifDue: true)
        #expect(next?.number == 2 && next?.entries == 1)
        // Nothing due: the key is still opened, and a wrong passphrase still reported.
        #expect(throws: KeyError.self) { try locked.publish("issuing", ifDue: true) }
        #expect(try service.publish("issuing", ifDue: true) == nil)
        // A release check that fails while the CRL is written: nothing recorded.
        var sink = CRLBuilder()
        let draft = try #require(try fixture.store.draftCRL(authority: "issuing", ifDue: false, into: &sink))
        let before = try fixture.store.events().count
        #expect(throws: SigningError.releaseCheckFailed("CRL: made up")) {
            try fixture.store.recordCRL(draft, der: [0x30, 0x00], beforeCommit: { throw SigningError.releaseCheckFailed("CRL: made up") }) { _ in [] }
        }
        #expect(try fixture.store.events().count == before)
        #expect(try fixture.store.latestCRL(of: "issuing")?.number == 2)
    }

    /// A publisher killed while its files were staged leaves them under temporary names; the
    /// next publication removes them once they are ten minutes old, and nothing else.
    @Test func stagedFilesOfAKilledPublisherAreRemovedLater() throws {
        let fixture = try TemporaryStore(encrypted: false)
        let service = RevocationService(keyring: fixture.keyring)
        _ = try service.publish("issuing")
        let folder = fixture.store.layout.publicFolder
        let old = [".issuing.crl.tmp-0123456789ab", ".issuing.crl.pem.tmp-ba9876543210"]
        let kept = [".issuing.crl.tmp-fresh0000000", ".issuing.crl.tmp-0123456789abc", ".root.crl.tmp-0123456789ab", "issuing.crl.tmp-0123456789ab"]
        for file in old + kept + [".issuing.crl.tmp-aaaaaaaaaaaa"] {
            try Data("partial".utf8).write(to: folder.appendingPathComponent(file))
        }
        let anHourAgo = Date().addingTimeInterval(-3_600)
        for file in old + kept {
            try FileManager.default.setAttributes([.modificationDate: anHourAgo], ofItemAtPath: folder.appendingPathComponent(file).path)
        }
        _ = try service.publish("issuing")
        let left = Set(try FileManager.default.contentsOfDirectory(atPath: folder.path))
        #expect(left.isDisjoint(with: old))
        #expect(Set(kept + [".issuing.crl.tmp-aaaaaaaaaaaa"]).isSubset(of: left))  // other names, or too young
        #expect(!left.contains { $0.hasPrefix(".issuing.crl") && !kept.contains($0) && $0 != ".issuing.crl.tmp-aaaaaaaaaaaa" })
    }

    @Test func aPublisherThatDiedBetweenDraftAndRecordLeavesTheCRLDue() throws {
        let fixture = try TemporaryStore(encrypted: false)
        let service = RevocationService(keyring: fixture.keyring)
        #expect(try service.publish("issuing")?.number == 1)
        #expect(try service.publish("issuing", ifDue: true) == nil)
        // Number 2 allocated (and the CA's stale flag cleared), then the process died.
        var sink = CRLBuilder()
        let draft = try #require(try fixture.store.draftCRL(authority: "issuing", ifDue: false, into: &sink))
        #expect(draft.number == 2)
        let next = try service.publish("issuing", ifDue: true)
        #expect(next?.number == 3, "a gap in the recorded numbers makes the CRL due")
        #expect(try service.publish("issuing", ifDue: true) == nil)
        #expect(try fixture.store.crlNumbersInOrder()["issuing"]?.map(\.number) == [1, 3])
    }

    @Test func ifDuePutsBackFilesACrashLeftBehind() throws {
        let fixture = try TemporaryStore(encrypted: false)
        let service = RevocationService(keyring: fixture.keyring)
        let record = try #require(try service.publish("issuing"))
        let files = service.crlFiles(of: "issuing")
        let published = try Data(contentsOf: files.der)
        // As if killed after the commit and before the files were written.
        try FileManager.default.removeItem(at: files.der)
        try Data("stale".utf8).write(to: files.pem)
        #expect(try Doctor(store: fixture.store).examine().findings.contains { $0.check == "crl" })
        #expect(try service.publish("issuing", ifDue: true) == nil)  // not due: no new number ...
        #expect(try Data(contentsOf: files.der) == published)         // ... but the files are back
        #expect(try String(contentsOf: files.pem, encoding: .utf8).hasPrefix("-----BEGIN X509 CRL-----"))
        #expect(try fixture.store.latestCRL(of: "issuing") == record)
        #expect(try Doctor(store: fixture.store).examine().findings.isEmpty)
    }

    @Test func revokingASubordinateCAListsItOnTheParentsCRLAndStopsIt() throws {
        let fixture = try TemporaryStore(encrypted: false)
        let manager = AuthorityManager(keyring: fixture.keyring)
        try manager.createSubordinate("site-2", parent: "root")
        try fixture.issue(IssueRequest(thing: "d", authority: "site-2"))
        var filter = CertificateFilter(authority: "root")
        filter.includeAuthorities = true
        let caCertificate = try #require(try fixture.store.certificates(filter).first { $0.subjectAuthority == "site-2" })
        let outcome = try RevocationService(keyring: fixture.keyring).revoke(.serial(caCertificate.serial, authority: nil), reason: .caCompromise)
        #expect(outcome.published.map(\.authority) == ["root"])
        #expect(try fixture.store.authority(named: "site-2").status == .revoked)
        let fresh = Provisioner(keyring: Keyring(store: fixture.store, passphrase: .fixed(nil)))
        #expect(throws: AuthorityError.revoked("site-2")) { try fresh.issue(IssueRequest(thing: "e", authority: "site-2"), bundleParent: fixture.bundles) }
        // A revoked CA still publishes its own CRL.
        #expect(try RevocationService(keyring: fixture.keyring).publish("site-2") != nil)
        let root = try #require(try fixture.store.certificates(filter).first { $0.subjectAuthority == "root" })
        #expect(throws: RevocationError.rootNotRevocable("root")) {
            try RevocationService(keyring: fixture.keyring).revoke(.serial(root.serial, authority: nil))
        }
    }

    @Test func renewWithSupersedeRevokesThePreviousCertificate() throws {
        let fixture = try TemporaryStore(encrypted: false)
        let first = try fixture.issue(IssueRequest(thing: "d"))
        let second = try fixture.issue(IssueRequest(thing: "d", renew: true, supersede: true))
        #expect(second.superseded == [first.entry.serial])
        let old = try fixture.store.certificate(matching: first.entry.serial.hex)
        #expect(old.status == .revoked && old.revocationReason == "superseded")
        #expect(try fixture.store.certificate(matching: "d").serial == second.entry.serial)
        #expect(try fixture.store.latestCRL(of: "issuing")?.entries == 1)
    }

    @Test func timesEncodeAsRFC5280Requires() {
        for seconds: Int64 in [0, 951_782_400, 1_790_000_000, 2_524_607_999, 2_524_608_000, 4_102_444_800] {
            let civil = CivilTime(seconds)
            let components = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: Date(timeIntervalSince1970: TimeInterval(seconds)))
            #expect([civil.year, civil.month, civil.day, civil.hour, civil.minute, civil.second]
                == [components.year, components.month, components.day, components.hour, components.minute, components.second])
            var writer = DERWriter()
            writer.time(seconds)
            // UTCTime (0x17) through 2049, GeneralizedTime (0x18) from 2050.
            #expect(writer.bytes.first == (civil.year < 2050 ? 0x17 : 0x18))
            let text = Store.timestamp(Date(timeIntervalSince1970: TimeInterval(seconds)))
                .replacingOccurrences(of: "T", with: " ")
            #expect(Array(text.utf8).withUnsafeBufferPointer { Store.unixSeconds($0) } == seconds)
        }
    }
}
