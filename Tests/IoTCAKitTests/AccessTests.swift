import Crypto
import Foundation
@testable import IoTCAKit
import Synchronization
import Testing
import TestSupport
import X509

/// The permission matrix in the library's front door (docs/security.md): each refusal from the
/// side of a caller that asks for more than it was granted, and that nothing is recorded then.
@Suite struct AccessTests {
    static func station(_ grants: String...) throws -> Caller {
        Caller(role: .station, name: "line-7", grants: try grants.map { try ClientGrant(parsing: $0) })
    }

    /// Certificates and audit events: a refusal leaves both as they were.
    static func record(_ fixture: TemporaryStore) throws -> [Int] {
        try fixture.store.read { db in
            [try db.value(Int.self, "SELECT COUNT(*) FROM certificates") ?? -1, try db.value(Int.self, "SELECT COUNT(*) FROM events") ?? -1]
        }
    }

    static func issue(_ authority: CertificateAuthority, _ fixture: TemporaryStore, _ request: IssueRequest) throws -> IssueResult {
        try authority.issue(request, into: fixture.bundles, format: .json)
    }

    /// On both engines: PostgreSQL records a station's issuance in its issuance function, which
    /// records it only while the thing's history is the one checked here.
    @Test(arguments: TemporaryStore.Backend.allCases)
    func aStationNeverTouchesWhatItCouldNotHaveIssued(_ backend: TemporaryStore.Backend) throws {
        let fixture = try TemporaryStore(backend: backend)
        let authority = CertificateAuthority(keyring: fixture.keyring)
        let clients = fixture.folder.appending("clients")
        let alice = try authority.createClient("alice", role: .operator, grants: [], into: clients)
        _ = try authority.createClient("line-9", role: .station, grants: [try ClientGrant(parsing: "device")], into: clients)
        _ = try authority.createClaim("batch-1", grants: [try ClientGrant(parsing: "device")], into: clients)
        let station = try Self.station("device:*", "server:*")
        let before = try Self.record(fixture)
        // Renewing and superseding a service client's name: refused, whatever the template asked.
        for thing in ["alice", "line-9", "batch-1"] {
            for template in ["device", "server"] {
                let request = IssueRequest(thing: thing, template: template, renew: true, supersede: true, caller: station)
                #expect(throws: AccessDenied.self) { try Self.issue(authority, fixture, request) }
                #expect(throws: AccessDenied.self) {
                    try authority.issueForDelivery(request, target: "api:line-7:json:/tmp/x", recover: true)
                }
            }
        }
        #expect(try Self.record(fixture) == before)
        #expect(try fixture.store.certificate(matching: alice.entry.serial.hex).status == .active)
        // A revoked operator's name stays out of reach too (its history, not only what is active).
        _ = try authority.revoke(.thing("alice"))
        #expect(throws: AccessDenied.self) { try Self.issue(authority, fixture, IssueRequest(thing: "alice", renew: true, caller: station)) }
        // Operators' verbs.
        let device = try Self.issue(authority, fixture, IssueRequest(thing: "dev-1", caller: station))
        #expect(throws: AccessDenied.self) { try authority.revoke(.thing("dev-1"), caller: station) }
        #expect(throws: AccessDenied.self) { try authority.publishCRLs(caller: station) }
        let nowhere = try #require(FileHandle(forWritingAtPath: "/dev/null"))
        #expect(throws: AccessDenied.self) { try authority.writeAudit(.csv, caller: station, to: StreamWriter(descriptor: nowhere.fileDescriptor)) }
        #expect(throws: AccessDenied.self) { try authority.reopen(thing: "dev-1", caller: station) }
        #expect(try fixture.store.certificate(matching: device.entry.serial.hex).status == .active)
    }

    @Test func aConfirmationSupersedesOnlyWhatTheCallerReaches() throws {
        let fixture = try TemporaryStore(encrypted: false)
        let authority = CertificateAuthority(keyring: fixture.keyring)
        // The operator issued a server certificate to gw-1; a station granted device:* renews it
        // as a device (refused) and may not confirm-and-supersede over it either.
        let server = try fixture.issue(IssueRequest(thing: "gw-1", template: "server"))
        let station = try Self.station("device:*")
        #expect(throws: AccessDenied.self) {
            try authority.issueForDelivery(IssueRequest(thing: "gw-1", renew: true, caller: station), target: "api:line-7:json:/x", recover: false)
        }
        let mine = try authority.issueForDelivery(IssueRequest(thing: "dev-2", caller: station), target: "api:line-7:json:/x", recover: false)
        #expect(throws: AccessDenied.self) {
            try authority.confirmDelivery(thing: "gw-1", serial: server.entry.serial, supersede: true, caller: station)
        }
        #expect(try authority.confirmDelivery(thing: "dev-2", serial: mine.entry.serial, supersede: true, caller: station).isEmpty)
        #expect(try fixture.store.certificate(matching: server.entry.serial.hex).status == .active)
    }

    @Test func namesStayInsideTheGrant() throws {
        let fixture = try TemporaryStore(encrypted: false)
        let authority = CertificateAuthority(keyring: fixture.keyring)
        let plain = try Self.station("server:gw-*")
        let before = try Self.record(fixture)
        for name in ["dns:localhost", "ip:127.0.0.1", "dns:gw-1.plant-7.example.com", "uri:https://evil.example/"] {
            let request = IssueRequest(thing: "gw-1", template: "server", subjectAltNames: [try SubjectAltName(name)], caller: plain)
            #expect(throws: AccessDenied.self) { try Self.issue(authority, fixture, request) }
        }
        // Outside the thing pattern: refused before anything else.
        #expect(throws: AccessDenied.self) { try Self.issue(authority, fixture, IssueRequest(thing: "localhost", template: "server", caller: plain)) }
        #expect(try Self.record(fixture) == before)
        // Exactly the template's names by default.
        let issued = try Self.issue(authority, fixture, IssueRequest(thing: "gw-1", template: "server", caller: plain))
        #expect(issued.entry.subjectAltNames == ["dns:gw-1"])

        let ruled = try Self.station("server:gw-*,san=dns:*.plant-7.example.com,san=ip:10.7.0.0/16")
        func names(_ texts: [String], _ caller: Caller) throws -> IssueRequest {
            IssueRequest(thing: "gw-2.plant-7.example.com", template: "server", subjectAltNames: try texts.map(SubjectAltName.init), renew: true,
                         caller: caller)
        }
        let allowed = try Self.issue(authority, fixture, try names(["dns:a.b.plant-7.example.com", "ip:10.7.255.1"], ruled))
        #expect(allowed.entry.subjectAltNames == ["dns:gw-2.plant-7.example.com", "dns:a.b.plant-7.example.com", "ip:10.7.255.1"])
        for refused in ["dns:plant-7.example.com", "dns:x.plant-8.example.com", "ip:10.8.0.1", "ip:::1", "dns:*.plant-7.example.com"] {
            #expect(throws: AccessDenied.self) { try Self.issue(authority, fixture, try names([refused], ruled)) }
        }
        // Wildcards only where the grant says so.
        let wild = try Self.station("server:gw-*,san=dns:*.plant-7.example.com,wildcards")
        #expect(try Self.issue(authority, fixture, try names(["dns:*.line.plant-7.example.com"], wild)).entry.subjectAltNames.contains("dns:*.line.plant-7.example.com"))
        #expect(throws: AccessDenied.self) { try Self.issue(authority, fixture, try names(["dns:*.example.com"], wild)) }
    }

    /// A grant's name rules bind the names the template renders too, and a name rendered from
    /// an attribute the caller sends is an extra name.
    @Test func renderedNamesObeyTheGrant() throws {
        let fixture = try TemporaryStore(encrypted: false)
        let authority = CertificateAuthority(keyring: fixture.keyring)
        let ruled = try Self.station("server:gw-*,san=dns:*.plant-7.example.com")
        #expect(throws: AccessDenied.self) { try Self.issue(authority, fixture, IssueRequest(thing: "gw-1.plant-9.example.com", template: "server", caller: ruled)) }
        #expect(try Self.issue(authority, fixture, IssueRequest(thing: "gw-1.plant-7.example.com", template: "server", caller: ruled))
            .entry.subjectAltNames == ["dns:gw-1.plant-7.example.com"])
        var template = try authority.template("server")
        template.name = "named-server"
        template.subjectAltNames = ["dns:{{thing}}", "dns:{{attr.host}}"]
        let file = fixture.folder.appending("named-server.json")
        try JSONEncoder().encode(template).write(to: file)
        _ = try authority.addTemplate(from: file)
        let plain = try Self.station("named-server:gw-*")
        let injected = IssueRequest(thing: "gw-2", template: "named-server", attributes: ["host": "localhost"], caller: plain)
        #expect(throws: AccessDenied.self) { try Self.issue(authority, fixture, injected) }
        #expect(try Self.record(fixture)[0] == 5)  // four CAs and gw-1.plant-7 only
    }

    /// Reach is per template and CA: a tenant's station never supersedes another CA's devices.
    @Test func historyIsTemplateAndCA() throws {
        let fixture = try TemporaryStore(encrypted: false)
        let authority = CertificateAuthority(keyring: fixture.keyring)
        _ = try authority.createCA("line-b", parent: "root")
        let theirs = try fixture.issue(IssueRequest(thing: "meter-9", authority: "line-b"))
        _ = try authority.createCA("line-a", parent: "root")
        let tenant = try Self.station("device:*,ca=line-a")
        #expect(throws: AccessDenied.self) {
            try Self.issue(authority, fixture, IssueRequest(thing: "meter-9", authority: "line-a", renew: true, supersede: true, caller: tenant))
        }
        #expect(try fixture.store.certificate(matching: theirs.entry.serial.hex).status == .active)
        // A grant naming both CAs reaches both.
        let both = try Self.station("device:*,ca=line-a,ca=line-b")
        _ = try Self.issue(authority, fixture, IssueRequest(thing: "meter-9", authority: "line-a", renew: true, caller: both))
    }

    /// A compromised server answering a CSR with a key of its own is refused: the device's key
    /// never comes from the server.
    @Test func anAnswerToARequestMayNotBringAKey() throws {
        let fixture = try TemporaryStore(encrypted: false)
        let generated = try fixture.issue(IssueRequest(thing: "dev-1"))
        let csrKey = try CSRCheck.publicKey(fromRequest: try EnrolmentTests.csr("dev-1"))
        #expect(throws: AnswerRejected.self) {
            try generated.bundle.checkAnswer(for: "dev-1", serial: generated.entry.serial, csrKey: csrKey)
        }
        try generated.bundle.checkAnswer(for: "dev-1", serial: generated.entry.serial, csrKey: nil)
        #expect(throws: AnswerRejected.self) { try generated.bundle.checkAnswer(for: "dev-2", serial: generated.entry.serial, csrKey: nil) }
    }

    @Test func aTemplateLimitsNamesForEveryCallerTheOperatorIncluded() throws {
        let fixture = try TemporaryStore(encrypted: false)
        let authority = CertificateAuthority(keyring: fixture.keyring)
        var template = try authority.template("server")
        template.name = "plant-server"
        template.allowedSubjectAltNames = ["dns:*.plant-7.example.com"]
        let file = fixture.folder.appending("plant-server.json")
        try JSONEncoder().encode(template).write(to: file)
        _ = try authority.addTemplate(from: file)
        let outside = IssueRequest(thing: "gw-1", template: "plant-server", subjectAltNames: [try SubjectAltName("dns:localhost")])
        #expect(throws: PolicyError.self) { try Self.issue(authority, fixture, outside) }
        let inside = IssueRequest(thing: "gw-1", template: "plant-server", subjectAltNames: [try SubjectAltName("dns:gw.plant-7.example.com")])
        #expect(try Self.issue(authority, fixture, inside).entry.subjectAltNames.contains("dns:gw.plant-7.example.com"))
        // A rule that does not parse is refused when the template is read.
        template.allowedSubjectAltNames = ["dns:*.*.example.com"]
        try JSONEncoder().encode(template).write(to: file)
        #expect(throws: PolicyError.self) { try authority.addTemplate(from: file, replace: true) }
    }

    @Test func theCAAndTheValidityAreNotTheCallersToPick() throws {
        let fixture = try TemporaryStore(encrypted: false)
        let authority = CertificateAuthority(keyring: fixture.keyring)
        _ = try authority.createCA("site-2", parent: "root")
        let station = try Self.station("device:*")
        let before = try Self.record(fixture)
        #expect(throws: AccessDenied.self) { try Self.issue(authority, fixture, IssueRequest(thing: "d", authority: "site-2", caller: station)) }
        // A root never issues to a thing, whoever asks (the local operator too).
        for caller in [station, Caller.local] {
            #expect(throws: (any Error).self) { try Self.issue(authority, fixture, IssueRequest(thing: "d", authority: "root", caller: caller)) }
        }
        #expect(throws: PolicyError.self) { try Self.issue(authority, fixture, IssueRequest(thing: "d", authority: "root")) }
        // Longer than the template's 365d: refused for everyone; shorter is fine.
        #expect(throws: PolicyError.self) { try Self.issue(authority, fixture, IssueRequest(thing: "d", validity: try ValidityPeriod("9y"))) }
        #expect(throws: PolicyError.self) {
            try Self.issue(authority, fixture, IssueRequest(thing: "d", validity: try ValidityPeriod("366d"), caller: station))
        }
        #expect(try Self.record(fixture) == before)
        let short = try Self.issue(authority, fixture, IssueRequest(thing: "d", validity: try ValidityPeriod("30d"), caller: station))
        #expect(short.entry.notAfter.timeIntervalSince(short.entry.notBefore) <= 30 * 86_400 + IssuancePolicy.clockSkewAllowance)
        // A grant naming the CA reaches it.
        let sited = try Self.station("device:*,ca=site-2")
        #expect(try Self.issue(authority, fixture, IssueRequest(thing: "e", authority: "site-2", caller: sited)).entry.authority == "site-2")
        #expect(throws: AccessDenied.self) { try Self.issue(authority, fixture, IssueRequest(thing: "f", caller: sited)) }
        // The service's CA issues service identities alone, and they come from nowhere else.
        #expect(throws: PolicyError.self) { try Self.issue(authority, fixture, IssueRequest(thing: "g", authority: "service")) }
        #expect(throws: PolicyError.self) { try Self.issue(authority, fixture, IssueRequest(thing: "h", template: "station")) }
        #expect(throws: (any Error).self) { try authority.createCA("service", parent: "root") }
        #expect(throws: (any Error).self) { try authority.createCA("sub", parent: "service-root") }
        // The service's callers name templates; a path is the local operator's alone.
        let path = fixture.folder.appending("device.json")
        try Array(BuiltinTemplates.sources["device"]?.utf8 ?? "".utf8).withUnsafeBytes { try Data($0).write(to: path) }
        #expect(throws: PolicyError.templateNotFound(path.path)) {
            try Self.issue(authority, fixture, IssueRequest(thing: "i", template: path.path, caller: station))
        }
        #expect(try Self.issue(authority, fixture, IssueRequest(thing: "i", template: path.path)).entry.template == "device")
    }

    @Test func grantsReadBackAsWritten() throws {
        for text in ["device", "device:line7-*", "server:gw-?,ca=issuing,ca=site-2,san=dns:*.plant-7.example.com,san=ip:10.7.0.0/16,wildcards"] {
            let grant = try ClientGrant(parsing: text)
            #expect(try ClientGrant(parsing: grant.description) == grant)
            #expect(try JSONDecoder().decode(ClientGrant.self, from: try JSONEncoder().encode(grant)) == grant)
        }
        #expect(try ClientGrant(parsing: "device").allowedAuthorities == ["issuing"])
        for bad in ["device:x,colour=red", "device:x,san=dns:a b", "device:x,san=ip:10.0.0.0/33", "device:x,ca=../etc", "device:x,san=dns:*"] {
            #expect(throws: PolicyError.self) { try ClientGrant(parsing: bad) }
        }
        let v6 = try NameRule("ip:fd00:7::/32")
        let (inside, outside) = (try SubjectAltName("ip:fd00:7:1::5"), try SubjectAltName("ip:fd00:8::1"))
        #expect(v6.allows(inside) && !v6.allows(outside))
        #expect(!v6.allows(try SubjectAltName("ip:10.0.0.1")))
        let mail = try NameRule("email:*@plant-7.example.com")
        let (plant, elsewhere) = (try SubjectAltName("email:ops@plant-7.example.com"), try SubjectAltName("email:ops@example.com"))
        #expect(mail.allows(plant) && !mail.allows(elsewhere))
    }

    @Test func aClaimEnrolsOnlyNewThingsUnlessAnOperatorReopensOne() throws {
        let fixture = try TemporaryStore(encrypted: false)
        let authority = CertificateAuthority(keyring: fixture.keyring)
        let claim = try authority.createClaim("batch-1", grants: [try ClientGrant(parsing: "device:sensor-*")], into: fixture.folder.appending("c"))
        let first = try authority.enrol(claim: claim.entry.der, csr: try EnrolmentTests.csr("sensor-1"))
        // Revoked for key compromise: a claim (perhaps read out of another device) cannot bring it back.
        _ = try authority.revoke(.thing("sensor-1"), reason: .keyCompromise)
        let before = try Self.record(fixture)
        #expect(throws: AccessDenied.self) { try authority.enrol(claim: claim.entry.der, csr: try EnrolmentTests.csr("sensor-1")) }
        #expect(try Self.record(fixture) == before)
        // Reopened by the operator (audited): once.
        #expect(throws: CertificateNotFound.self) { try authority.reopen(thing: "sensor-never") }
        try authority.reopen(thing: "sensor-1")
        try authority.reopen(thing: "sensor-1")
        let again = try authority.enrol(claim: claim.entry.der, csr: try EnrolmentTests.csr("sensor-1"))
        #expect(again.entry.serial != first.entry.serial)
        #expect(throws: AccessDenied.self) { try authority.enrol(claim: claim.entry.der, csr: try EnrolmentTests.csr("sensor-1")) }
        #expect(try fixture.store.events().contains { $0.action == "thing.reopen" && $0.subject == "sensor-1" })
        // A failed enrolment puts the opening back.
        try authority.reopen(thing: "sensor-1")
        #expect(throws: PolicyError.self) { try authority.enrol(claim: claim.entry.der, csr: Array("junk".utf8)) }
        #expect(throws: (any Error).self) { try authority.enrol(claim: claim.entry.der, csr: try EnrolmentTests.csr("sensor-1"), template: "server") }
        #expect(try authority.enrol(claim: claim.entry.der, csr: try EnrolmentTests.csr("sensor-1")).entry.thing == "sensor-1")
    }

    /// One opening, eight enrolments at once with the claim: one new certificate.
    @Test func aReopenedThingIsEnrolledOnceByClaimsAtOnce() throws {
        let fixture = try TemporaryStore(encrypted: false)
        let authority = CertificateAuthority(keyring: fixture.keyring)
        let claim = try authority.createClaim("batch-2", grants: [try ClientGrant(parsing: "device:valve-*")], into: fixture.folder.appending("c"))
        _ = try authority.enrol(claim: claim.entry.der, csr: try EnrolmentTests.csr("valve-1"))
        try authority.reopen(thing: "valve-1")
        let requests = try (0..<8).map { _ in try EnrolmentTests.csr("valve-1") }
        let enrolled = Mutex(0)
        DispatchQueue.concurrentPerform(iterations: 8) { index in
            let worker = CertificateAuthority(keyring: fixture.keyring)
            if (try? worker.enrol(claim: claim.entry.der, csr: requests[index])) != nil { enrolled.withLock { $0 += 1 } }
        }
        #expect(enrolled.withLock { $0 } == 1)
        #expect(try fixture.store.certificates(CertificateFilter(thing: "valve-1")).count == 2)
    }

    /// A folder under a thing's name that is not its bundle is never replaced (removed).
    @Test func onlyABundleOfTheThingIsReplaced() throws {
        let fixture = try TemporaryStore(encrypted: false)
        let mine = fixture.bundles.appendingPathComponent("meter-5")
        try FileManager.default.createDirectory(at: mine, withIntermediateDirectories: true)
        try Data("someone's notes".utf8).write(to: mine.appendingPathComponent("notes.txt"))
        #expect(throws: OutputError.self) { try fixture.issue(IssueRequest(thing: "meter-5", force: true)) }
        #expect(throws: OutputError.self) { try fixture.issue(IssueRequest(thing: "meter-5", renew: true)) }
        #expect(try fixture.store.certificates(CertificateFilter(thing: "meter-5")).isEmpty)
        #expect(try String(contentsOf: mine.appendingPathComponent("notes.txt"), encoding: .utf8) == "someone's notes")
        // A bundle of the thing is replaced as before.
        try FileManager.default.removeItem(at: mine)
        try fixture.issue(IssueRequest(thing: "meter-5"))
        #expect(try fixture.issue(IssueRequest(thing: "meter-5", renew: true)).folder.lastPathComponent == "meter-5")
    }

    @Test func tokensStayWithinTheirThingAndTemplate() throws {
        let fixture = try TemporaryStore(encrypted: false)
        let authority = CertificateAuthority(keyring: fixture.keyring)
        // RFC 7617: the user name ends at the first colon.
        #expect(throws: PolicyError.self) { try authority.createEnrolmentToken(thing: "plant:7") }
        // A token for a name that holds an operator certificate cannot replace it.
        let alice = try authority.createClient("alice", role: .operator, grants: [], into: fixture.folder.appending("c"))
        let token = try authority.createEnrolmentToken(thing: "alice")
        #expect(throws: AccessDenied.self) { try authority.enrol(thing: "alice", secret: token.secret, csr: try EnrolmentTests.csr()) }
        #expect(try fixture.store.certificate(matching: alice.entry.serial.hex).status == .active)
        // The token was put back (the failure was not the holder's secret) ...
        let spare = try authority.createEnrolmentToken(thing: "meter-3")
        let newer = try authority.createEnrolmentToken(thing: "meter-3")
        // ... but a token put back never replaces a newer one.
        let row = try fixture.store.spendEnrolmentToken(thing: "meter-3", secretSHA256: CertificateAuthority.digest(newer.secret),
                                                        now: fixture.clock.now)
        let newest = try authority.createEnrolmentToken(thing: "meter-3")
        try fixture.store.restoreEnrolmentToken(row)
        #expect(throws: EnrolmentError.self) { try authority.enrol(thing: "meter-3", secret: newer.secret, csr: try EnrolmentTests.csr()) }
        #expect(throws: EnrolmentError.self) { try authority.enrol(thing: "meter-3", secret: spare.secret, csr: try EnrolmentTests.csr()) }
        #expect(try authority.enrol(thing: "meter-3", secret: newest.secret, csr: try EnrolmentTests.csr()).entry.thing == "meter-3")
    }

    @Test func aRunningProvisionerSeesTemplatesReplacedAndRemoved() throws {
        let fixture = try TemporaryStore(encrypted: false)
        let authority = CertificateAuthority(keyring: fixture.keyring)
        var template = try authority.template("device")
        template.name = "meter"
        let file = fixture.folder.appending("meter.json")
        try JSONEncoder().encode(template).write(to: file)
        _ = try authority.addTemplate(from: file)
        #expect(try Self.issue(authority, fixture, IssueRequest(thing: "m1", template: "meter")).entry.keyAlgorithm == .ecP256)
        template.keyType = .ecP384
        try JSONEncoder().encode(template).write(to: file)
        _ = try authority.addTemplate(from: file, replace: true)
        // The same instance (a service worker keeps one) issues from the new version at once.
        #expect(try Self.issue(authority, fixture, IssueRequest(thing: "m2", template: "meter")).entry.keyAlgorithm == .ecP384)
        try authority.removeTemplate("meter")
        #expect(throws: PolicyError.templateNotFound("meter")) { try Self.issue(authority, fixture, IssueRequest(thing: "m3", template: "meter")) }
    }

    @Test func initMakesTheServiceItsOwnCAs() throws {
        let fixture = try TemporaryStore(encrypted: false)
        let authorities = try fixture.store.authorities()
        #expect(authorities.map(\.name) == ["root", "issuing", "service-root", "service"])
        let service = try #require(authorities.first { $0.name == "service" })
        #expect(service.parentName == "service-root" && ServiceHierarchy.isServiceCA(service))
        let serviceRoot = try #require(authorities.first { $0.name == "service-root" })
        #expect(serviceRoot.kind == .root && serviceRoot.subject != authorities[0].subject)
        // Pins for firmware leave the service's CAs out unless named.
        #expect(try PinSet.collect(from: fixture.store).filter { $0.role != .backup }.map(\.name) == ["root", "issuing"])
        #expect(throws: AuthorityError.alreadyExists("service")) { try CertificateAuthority(keyring: fixture.keyring).createServiceHierarchy() }
    }

    /// `ca create-service` killed between its two CAs: run again, it makes the missing one.
    @Test func aHalfMadeServiceHierarchyIsFinishedByRunningAgain() throws {
        let fixture = try TemporaryStore(encrypted: false)
        // What a kill after the root leaves: service-root and no service.
        let manager = AuthorityManager(keyring: fixture.keyring)
        try fixture.store.write { db in
            _ = try db.execute("DELETE FROM authorities WHERE name = 'service'")
        }
        let (root, service) = try manager.createServiceHierarchy(keyType: .ecP256)
        #expect(root.name == "service-root" && service.parentName == "service-root" && ServiceHierarchy.isServiceCA(service))
        #expect(throws: AuthorityError.alreadyExists("service")) { try manager.createServiceHierarchy(keyType: .ecP256) }
    }
}
