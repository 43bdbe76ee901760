import Foundation
import IoTCAKit
import Testing
import TestSupport
import SwiftASN1
import X509

@Suite struct StoreTests {
    @Test func initCreatesRootAndIssuingWithSafeModes() throws {
        let fixture = try TemporaryStore()
        let authorities = try fixture.store.authorities()
        #expect(authorities.map(\.name) == ["root", "issuing", "service-root", "service"])
        #expect(authorities.map(\.kind) == [.root, .subordinate, .root, .subordinate])
        #expect(authorities[1].parentName == "root")
        let issuing = try authorities[1].certificate()
        #expect(try issuing.extensions.basicConstraints == .isCertificateAuthority(maxPathLength: 0))
        #expect(issuing.notValidAfter <= (try authorities[0].certificate().notValidAfter))
        #expect(try mode(fixture.storeURL.path) == 0o700)
        #expect(try mode(fixture.store.layout.url(try fixture.store.authority(named: "root").keyFile).path) == 0o600)
        #expect(try mode(fixture.store.layout.url(try fixture.store.authority(named: "issuing").keyFile).path) == 0o600)
        #expect(FileManager.default.fileExists(atPath: fixture.store.layout.certificateFile(for: "issuing").path))
        // No staging folder is left beside the store.
        let siblings = try FileManager.default.contentsOfDirectory(atPath: fixture.folder.url.path)
        #expect(siblings == ["store"])
    }

    @Test func initRefusesAnExistingStoreOrNonEmptyFolder() throws {
        let fixture = try TemporaryStore(encrypted: false)
        #expect(throws: StoreError.alreadyExists(path: fixture.storeURL.path)) {
            try StoreInitializer.initialize(at: fixture.storeURL, options: .init(passphrase: nil))
        }
        let folder = TemporaryFolder()
        try Data("x".utf8).write(to: folder.appending("notes.txt"))
        #expect(throws: StoreError.self) { try StoreInitializer.initialize(at: folder.url, options: .init(passphrase: nil)) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.url.path) == ["notes.txt"])
    }

    @Test func failedInitLeavesNothingBehind() throws {
        let folder = TemporaryFolder()
        let options = StoreInitializer.Options(rootValidity: try ValidityPeriod("1y"), issuingValidity: try ValidityPeriod("5y"), passphrase: nil)
        #expect(throws: PolicyError.self) { try StoreInitializer.initialize(at: folder.appending("store"), options: options) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.url.path).isEmpty)
    }

    @Test func issueRecordsTheCertificateAndWritesTheBundle() throws {
        let fixture = try TemporaryStore()
        let result = try fixture.issue(IssueRequest(thing: "device-42", attributes: ["model": "m4"]))
        let entries = try fixture.store.certificates(CertificateFilter(thing: "device-42"))
        #expect(entries.count == 1)
        #expect(entries[0] == result.entry)
        #expect(entries[0].der == Array(try Data(contentsOf: result.folder.appendingPathComponent("cert.pem"))).pemDER)
        #expect(try mode(result.folder.appendingPathComponent("key.pem").path) == 0o600)
        let files = try FileManager.default.contentsOfDirectory(atPath: result.folder.path).sorted()
        #expect(files == ["cert.pem", "chain.pem", "key.pem", "manifest.json", "root.pem"])
        let manifest = try JSONDecoder.iotcaManifest.decode(BundleManifest.self, from: Data(contentsOf: result.folder.appendingPathComponent("manifest.json")))
        #expect(manifest.serial == result.entry.serial.hex)
        #expect(manifest.rootSPKISHA256 == fixture.result.rootFingerprints.spkiSHA256Base64)
        // The hand-written manifest is byte for byte what JSONEncoder.iotca writes.
        let written = try Data(contentsOf: result.folder.appendingPathComponent("manifest.json"))
        #expect(written == (try JSONEncoder.iotca.encode(result.bundle.manifest)) + Data("\n".utf8))
        // The CA never keeps a device key: nothing in the store matches the key file.
        let key = try String(contentsOf: result.folder.appendingPathComponent("key.pem"), encoding: .utf8)
        let keyBody = key.split(separator: "\n")[1]
        let databaseBytes = try Data(contentsOf: fixture.store.layout.database)
        #expect(databaseBytes.range(of: Data(keyBody.utf8)) == nil)
    }

    @Test func handWrittenManifestEscapesLikeJSONEncoder() throws {
        let fixture = try TemporaryStore(encrypted: false)
        var bundle = try fixture.issue(IssueRequest(thing: "d1")).bundle
        bundle.thing = "d2"
        bundle.manifest.subject = "CN=\"quoted\" \\ back\u{8}\u{c}\n\r\t\u{1}\u{1f}\u{7f} é 😀 /slash"
        bundle.manifest.subjectAltNames = []
        bundle.manifest.files = ["a\"b", "ü", ""]
        bundle.manifest.thing = ""
        let folder = try bundle.write(into: fixture.folder.appending("other"), replace: false)
        let written = try Data(contentsOf: folder.appendingPathComponent("manifest.json"))
        #expect(String(decoding: written, as: UTF8.self) == String(decoding: try JSONEncoder.iotca.encode(bundle.manifest), as: UTF8.self) + "\n")
    }

    @Test func aThingWithAnActiveCertificateNeedsRenew() throws {
        let fixture = try TemporaryStore(encrypted: false)
        let first = try fixture.issue(IssueRequest(thing: "d1"))
        let conflict = #expect(throws: IssuanceConflict.self) { try fixture.issue(IssueRequest(thing: "d1")) }
        #expect(conflict?.kind == .conflict)
        let renewed = try fixture.issue(IssueRequest(thing: "d1", renew: true))
        #expect(renewed.entry.serial != first.entry.serial)
        #expect(try fixture.store.certificates(CertificateFilter(thing: "d1")).count == 2)
        let manifest = try String(contentsOf: renewed.folder.appendingPathComponent("manifest.json"), encoding: .utf8)
        #expect(manifest.contains(renewed.entry.serial.hex))
    }

    @Test func badRequestsWriteNothing() throws {
        let fixture = try TemporaryStore(encrypted: false)
        let before = try fixture.store.events().count
        #expect(throws: PolicyError.self) { try fixture.issue(IssueRequest(thing: "x", csr: Array("garbage".utf8))) }
        #expect(throws: PolicyError.self) { try fixture.issue(IssueRequest(thing: "x", template: "nope")) }
        #expect(throws: PolicyError.self) { try fixture.issue(IssueRequest(thing: "../x")) }
        #expect(throws: PolicyError.self) { try fixture.issue(IssueRequest(thing: "x", validity: try ValidityPeriod("30y"))) }
        #expect(throws: PolicyError.self) { try fixture.issue(IssueRequest(thing: "x", template: "subordinate-ca")) }
        #expect(throws: AuthorityError.notFound("nope")) { try fixture.issue(IssueRequest(thing: "x", authority: "nope")) }
        try AuthorityManager(keyring: fixture.keyring).setStatus(.disabled, of: "issuing")
        let fresh = Provisioner(keyring: Keyring(store: fixture.store, passphrase: .fixed(nil)))
        #expect(throws: AuthorityError.disabled("issuing")) { try fresh.issue(IssueRequest(thing: "x"), bundleParent: fixture.bundles) }
        #expect(try fixture.store.certificates(CertificateFilter()).isEmpty)
        #expect(try fixture.store.events().count == before + 1)  // only the ca.disable event
        let bundles = (try? FileManager.default.contentsOfDirectory(atPath: fixture.bundles.path)) ?? []
        #expect(bundles.isEmpty)
    }

    @Test func wrongPassphraseIsRefusedBeforeAnythingIsWritten() throws {
        let fixture = try TemporaryStore()
        let provisioner = Provisioner(keyring: Keyring(store: fixture.store, passphrase: .fixed(Passphrase("wrong"))))
        let error = #expect(throws: KeyError.self) { try provisioner.issue(IssueRequest(thing: "x"), bundleParent: fixture.bundles) }
        #expect(error?.kind == .passphrase)
        #expect(try fixture.store.certificates(CertificateFilter()).isEmpty)
    }

    @Test func subordinateCAsAndTheirLimits() throws {
        let fixture = try TemporaryStore(encrypted: false)
        let manager = AuthorityManager(keyring: fixture.keyring)
        #expect(throws: AuthorityError.self) { try manager.createSubordinate("edge", parent: "issuing") }
        let site = try manager.createSubordinate("site-2", parent: "root", keyType: .ecP384)
        #expect(site.keyAlgorithm == .ecP384)
        #expect(throws: AuthorityError.alreadyExists("site-2")) { try manager.createSubordinate("site-2", parent: "root") }
        let result = try fixture.issue(IssueRequest(thing: "d", authority: "site-2"))
        #expect(result.entry.authority == "site-2")
        #expect(result.entry.keyAlgorithm == .ecP256)
        // The sub-CA's certificate is recorded as issued by root.
        #expect(try fixture.store.certificates(CertificateFilter(authority: "root")).isEmpty)
        var all = CertificateFilter(authority: "root")
        all.includeAuthorities = true
        #expect(try fixture.store.certificates(all).compactMap(\.subjectAuthority).sorted() == ["issuing", "root", "site-2"])
    }

    @Test func listFilters() throws {
        let fixture = try TemporaryStore(encrypted: false)
        try fixture.issue(IssueRequest(thing: "short", validity: try ValidityPeriod("10d")))
        try fixture.issue(IssueRequest(thing: "long"))
        let soon = try fixture.store.certificates(CertificateFilter(expiringBefore: Date().addingTimeInterval(30 * 86_400)))
        #expect(soon.map { $0.thing } == ["short"])
        #expect(try fixture.store.certificates(CertificateFilter(status: .revoked)).isEmpty)
        #expect(try fixture.store.certificate(matching: "long").thing == "long")
        #expect(throws: CertificateNotFound.self) { try fixture.store.certificate(matching: "nobody") }
    }

    @Test func auditEventsFormAnIntactHashChain() throws {
        let fixture = try TemporaryStore(encrypted: false)
        try fixture.issue(IssueRequest(thing: "a"))
        try fixture.issue(IssueRequest(thing: "b"))
        let events = try fixture.store.events()
        #expect(events.map(\.action) == ["ca.create", "ca.create", "key.standby", "ca.create", "ca.create", "store.init", "certificate.issue", "certificate.issue"])
        #expect(AuditEvent.verifyChain(events))
        var tampered = events
        tampered[3].subject = "mallory"
        #expect(!AuditEvent.verifyChain(tampered))
    }

    @Test func anExpiredCAIsRefusedWithItsDate() throws {
        let folder = TemporaryFolder()
        let clock = ManualClock()
        let options = StoreInitializer.Options(rootValidity: try ValidityPeriod("2s"), passphrase: nil)
        _ = try StoreInitializer.initialize(at: folder.appending("store"), options: options, clock: clock.clock)
        let store = try Store.open(folder.appending("store"), clock: clock.clock)
        clock.advance(by: 2.5)
        let provisioner = Provisioner(keyring: Keyring(store: store, passphrase: .fixed(nil)))
        let error = #expect(throws: AuthorityError.self) {
            try provisioner.issue(IssueRequest(thing: "late"), bundleParent: folder.appending("bundles"))
        }
        #expect(error?.kind == .unavailable)
        guard case .expired(let name, let notAfter) = error else { Issue.record("not expired: \(String(describing: error))"); return }
        #expect(name == "issuing" && !notAfter.isEmpty)
        #expect(try store.certificates(CertificateFilter()).isEmpty)
    }

    @Test func aCorruptDatabaseIsAStoreError() throws {
        let folder = TemporaryFolder()
        try Data(repeating: 0x41, count: 4096).write(to: folder.appending("iotca.db"))
        let error = #expect(throws: StoreError.self) { try Store.open(folder.url) }
        #expect(error?.kind == .store)
        #expect(throws: StoreError.notFound(path: folder.appending("none").path)) { try Store.open(folder.appending("none")) }
    }

    private func mode(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? -1
    }
}

extension Array where Element == UInt8 {
    /// The DER inside a one-block PEM file.
    var pemDER: [UInt8] {
        (try? PEMDocument(pemString: String(decoding: self, as: UTF8.self)).derBytes) ?? []
    }
}

extension JSONDecoder {
    static var iotcaManifest: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }
}
