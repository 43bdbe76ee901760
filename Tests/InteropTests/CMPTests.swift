import Foundation
@testable import IoTCAKit
import Testing
import TestSupport

/// Lightweight CMP (RFC 9483) on a real `iotca serve`, judged by a client nobody here wrote:
/// OpenSSL's `openssl cmp`, as a device's provisioning script would run it, every certificate
/// it saves checked by `openssl verify` and against the store.
@Suite(.serialized) struct CMPTests {
    final class Fixture: @unchecked Sendable {
        let store: TemporaryStore
        let authority: CertificateAuthority
        let server: ServiceProcess
        /// The fleet's root and the issuing CA: what a device trusts the CA's answers with.
        let root: String
        let chain: String
        var folder: TemporaryFolder { store.folder }

        init() throws {
            store = try TemporaryStore()
            authority = CertificateAuthority(keyring: store.keyring)
            let anyBundle = try store.issue(IssueRequest(thing: "first"))
            root = anyBundle.folder.appendingPathComponent("root.pem").path
            chain = anyBundle.folder.appendingPathComponent("chain.pem").path
            server = try ServiceProcess(store: store.storeURL, environment: store.processEnvironment, folder: store.folder.url)
        }

        /// `openssl cmp` against the server's public listener (CMP protects itself; plain HTTP).
        func cmp(_ arguments: [String], path: String = ".well-known/cmp") throws -> ProcessResult {
            try OpenSSLCLI.run(["cmp", "-server", server.publicURL, "-path", path, "-batch", "-msg_timeout", "20"] + arguments)
        }

        /// A new P-256 key file.
        func key(_ name: String) throws -> String {
            let path = folder.path(name + ".key")
            #expect(try OpenSSLCLI.run(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", path]).succeeded)
            return path
        }

        /// The arguments that let the client check signed answers: the root, the issuing CA.
        var trust: [String] { ["-trusted", root, "-untrusted", chain] }

        func verify(_ certificate: String) throws -> ProcessResult {
            try OpenSSLCLI.run(["verify", "-x509_strict", "-purpose", "sslclient", "-CAfile", root, "-untrusted", chain, certificate])
        }

        func certificates(of thing: String) throws -> [CertificateEntry] {
            try store.store.certificates(CertificateFilter(thing: thing))
        }

        /// Enrols `thing` with a token over ir; returns its certificate and key files.
        func enrol(_ thing: String, extra: [String] = []) throws -> (cert: String, key: String) {
            let token = try authority.createEnrolmentToken(thing: thing)
            let key = try key(thing)
            let result = try cmp(["-cmd", "ir", "-ref", thing, "-secret", "pass:" + token.secret, "-newkey", key, "-subject", "/CN=" + thing,
                                  "-certout", folder.path(thing + ".pem")] + extra)
            #expect(result.succeeded, "\(result.stderr)")
            return (folder.path(thing + ".pem"), key)
        }
    }

    @Test func aTokenEnrolsOnceOverIRAndTheCertificateIsConfirmed() throws {
        let fixture = try Fixture()
        let token = try fixture.authority.createEnrolmentToken(thing: "sensor-1")
        let key = try fixture.key("sensor-1")
        // A wrong secret: refused, nothing issued, the token still good.
        let wrong = try fixture.cmp(["-cmd", "ir", "-ref", "sensor-1", "-secret", "pass:wrong", "-newkey", key, "-subject", "/CN=sensor-1"])
        #expect(!wrong.succeeded)
        // Another thing's name with this secret: the same.
        let other = try fixture.cmp(["-cmd", "ir", "-ref", "sensor-2", "-secret", "pass:" + token.secret, "-newkey", key, "-subject", "/CN=x"])
        #expect(!other.succeeded)
        #expect(try fixture.certificates(of: "sensor-1").isEmpty)
        let enrolled = try fixture.cmp(["-cmd", "ir", "-ref", "sensor-1", "-secret", "pass:" + token.secret, "-newkey", key,
                                        "-subject", "/CN=anything", "-certout", fixture.folder.path("sensor-1.pem"),
                                        "-chainout", fixture.folder.path("chain-out.pem"), "-cacertsout", fixture.folder.path("capubs.pem")])
        #expect(enrolled.succeeded, "\(enrolled.stderr)")
        #expect(enrolled.log.contains("received PKICONF"), "certConf was answered: \(enrolled.stderr)")
        let verified = try fixture.verify(fixture.folder.path("sensor-1.pem"))
        #expect(verified.succeeded, "\(verified.stderr)")
        // caPubs (trusted through the MAC) is the fleet's root.
        let capubs = try String(contentsOfFile: fixture.folder.path("capubs.pem"), encoding: .utf8)
        #expect(capubs == (try String(contentsOfFile: fixture.root, encoding: .utf8)))
        // The template decided the subject; the store holds it, confirmed.
        let text = try OpenSSLCLI.text(ofCertificate: fixture.folder.path("sensor-1.pem"))
        #expect(text.contains("CN = sensor-1") || text.contains("CN=sensor-1"), "\(text)")
        let entries = try fixture.certificates(of: "sensor-1")
        #expect(entries.count == 1 && entries.first?.status == .active)
        let actions = try fixture.store.store.events().map(\.action)
        #expect(actions.contains("cmp.confirmation.awaited") && actions.contains("cmp.confirmed") && actions.contains("enrolment.token.spent"))
        // Spent: the same secret again is refused.
        let again = try fixture.cmp(["-cmd", "ir", "-ref", "sensor-1", "-secret", "pass:" + token.secret, "-newkey", key, "-subject", "/CN=sensor-1"])
        #expect(!again.succeeded)
        #expect(try fixture.certificates(of: "sensor-1").count == 1)
    }

    /// The same over TLS on the API listener, beside EST: the device checks the server with the
    /// service root, as for EST, and needs no client certificate.
    @Test func aTokenEnrolsOverTLSOnTheAPIListenerToo() throws {
        let fixture = try Fixture()
        let serviceRoot = fixture.folder.path("service-root.pem")
        try AtomicFile.writePEM(try #require(try fixture.store.store.authority(named: "service-root").certificateDER), type: "CERTIFICATE",
                                to: URL(fileURLWithPath: serviceRoot))
        let token = try fixture.authority.createEnrolmentToken(thing: "tls-1")
        let result = try OpenSSLCLI.run(["cmp", "-server", fixture.server.apiURL, "-path", ".well-known/cmp", "-tls_used", "-tls_trusted", serviceRoot,
                                         "-batch", "-cmd", "ir", "-ref", "tls-1", "-secret", "pass:" + token.secret, "-newkey", try fixture.key("tls-1"),
                                         "-subject", "/CN=tls-1", "-certout", fixture.folder.path("tls-1.pem")])
        #expect(result.succeeded, "\(result.log)")
        #expect(try fixture.verify(fixture.folder.path("tls-1.pem")).succeeded)
        #expect(try fixture.certificates(of: "tls-1").map(\.status) == [.active])
    }

    /// PBM with other parameters than OpenSSL's defaults (HMAC-SHA256, SHA-384 as one-way
    /// function) and an RSA key: the answer is keyed with the same parameters.
    @Test func otherMACParametersAndAnRSAKey() throws {
        let fixture = try Fixture()
        let token = try fixture.authority.createEnrolmentToken(thing: "rsa-1")
        let key = fixture.folder.path("rsa-1.key")
        #expect(try OpenSSLCLI.run(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", key]).succeeded)
        let result = try fixture.cmp(["-cmd", "ir", "-ref", "rsa-1", "-secret", "pass:" + token.secret, "-mac", "hmacWithSHA256", "-digest", "sha384",
                                      "-newkey", key, "-subject", "/CN=rsa-1", "-certout", fixture.folder.path("rsa-1.pem")])
        #expect(result.succeeded, "\(result.log)")
        #expect(try fixture.verify(fixture.folder.path("rsa-1.pem")).succeeded)
        #expect(try OpenSSLCLI.text(ofCertificate: fixture.folder.path("rsa-1.pem")).contains("rsaEncryption"))
    }

    @Test func aHashOnlyTokenDoesNotEnrolOverCMP() throws {
        let fixture = try Fixture()
        let token = try fixture.authority.createEnrolmentToken(thing: "est-only", cmp: false)
        let result = try fixture.cmp(["-cmd", "ir", "-ref", "est-only", "-secret", "pass:" + token.secret, "-newkey", try fixture.key("e"),
                                      "-subject", "/CN=est-only"])
        #expect(!result.succeeded)
        #expect(try fixture.certificates(of: "est-only").isEmpty)
    }

    @Test func p10crWithACSRAndImplicitConfirmation() throws {
        let fixture = try Fixture()
        let token = try fixture.authority.createEnrolmentToken(thing: "meter-3")
        let key = try fixture.key("meter-3")
        let csr = fixture.folder.path("meter-3.csr")
        #expect(try OpenSSLCLI.run(["req", "-new", "-key", key, "-subj", "/CN=meter-3", "-out", csr]).succeeded)
        let result = try fixture.cmp(["-cmd", "p10cr", "-ref", "meter-3", "-secret", "pass:" + token.secret, "-csr", csr, "-implicit_confirm",
                                      "-certout", fixture.folder.path("meter-3.pem")], path: ".well-known/cmp/p/device/pkcs10")
        #expect(result.succeeded, "\(result.stderr)")
        #expect(!result.log.contains("CERTCONF"), "implicit confirmation was granted: \(result.stderr)")
        #expect(try fixture.verify(fixture.folder.path("meter-3.pem")).succeeded)
        let actions = try fixture.store.store.events().map(\.action)
        #expect(!actions.contains("cmp.confirmation.awaited"))
        #expect(try fixture.certificates(of: "meter-3").first?.status == .active)
    }

    @Test func aCertificateTheClientRejectsIsRevoked() throws {
        let fixture = try Fixture()
        // The client checks the new certificate against anchors it was given; a foreign one
        // makes it reject what it received, in certConf.
        let foreign = fixture.folder.path("foreign.pem")
        #expect(try OpenSSLCLI.run(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                                    fixture.folder.path("foreign.key"), "-out", foreign, "-subj", "/CN=foreign", "-days", "2"]).succeeded)
        let token = try fixture.authority.createEnrolmentToken(thing: "valve-9")
        let result = try fixture.cmp(["-cmd", "ir", "-ref", "valve-9", "-secret", "pass:" + token.secret, "-newkey", try fixture.key("valve-9"),
                                      "-subject", "/CN=valve-9", "-out_trusted", foreign, "-certout", fixture.folder.path("valve-9.pem")])
        #expect(!result.succeeded)
        #expect(result.log.contains("received PKICONF"), "the rejection was sent and answered: \(result.stderr)")
        let entries = try fixture.certificates(of: "valve-9")
        #expect(entries.count == 1 && entries.first?.status == .revoked && entries.first?.revocationReason == RevocationReason.cessationOfOperation.rawValue)
        #expect(try fixture.store.store.events().map(\.action).contains("cmp.rejected"))
    }

    /// A rejected key update leaves the device its current certificate (no supersession); a
    /// rejection signed with a claim, which a whole batch shares, is left to the timeout.
    @Test func rejectionsOfKeyUpdatesAndClaimEnrolments() throws {
        let fixture = try Fixture()
        let foreign = fixture.folder.path("foreign.pem")
        #expect(try OpenSSLCLI.run(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                                    fixture.folder.path("foreign.key"), "-out", foreign, "-subj", "/CN=foreign", "-days", "2"]).succeeded)
        let (cert, key) = try fixture.enrol("hoist-1", extra: ["-implicit_confirm"])
        func scheduled() throws -> Int { try fixture.store.store.read { db in try db.value(Int.self, "SELECT COUNT(*) FROM scheduled_supersessions") } ?? -1 }
        // A key update left unconfirmed (`-disable_confirm`) schedules nothing, and its
        // certificate proves nothing while it waits: it cannot update its own key.
        let nextKey = try fixture.key("hoist-1-next")
        let unconfirmed = try fixture.cmp(["-cmd", "kur", "-cert", cert, "-key", key, "-newkey", nextKey, "-disable_confirm",
                                           "-certout", fixture.folder.path("held.pem")] + fixture.trust)
        #expect(unconfirmed.succeeded, "\(unconfirmed.log)")
        #expect(try scheduled() == 0)
        let fromHeld = try fixture.cmp(["-cmd", "kur", "-cert", fixture.folder.path("held.pem"), "-key", nextKey, "-newkey", try fixture.key("h2"),
                                        "-certout", fixture.folder.path("x.pem")] + fixture.trust)
        #expect(!fromHeld.succeeded && fromHeld.log.contains("notAuthorized"), "\(fromHeld.log)")
        // Confirmed, a key update schedules the current certificate's supersession ...
        let confirmed = try fixture.cmp(["-cmd", "kur", "-cert", cert, "-key", key, "-newkey", nextKey,
                                         "-certout", fixture.folder.path("hoist-1b.pem")] + fixture.trust)
        #expect(confirmed.succeeded, "\(confirmed.log)")
        #expect(try scheduled() == 1)
        // ... which a later key update the device rejects leaves as it was.
        let rejected = try fixture.cmp(["-cmd", "kur", "-cert", fixture.folder.path("hoist-1b.pem"), "-key", nextKey,
                                        "-newkey", try fixture.key("hoist-1-third"), "-out_trusted", foreign,
                                        "-certout", fixture.folder.path("x.pem")] + fixture.trust)
        #expect(!rejected.succeeded && rejected.log.contains("received PKICONF"), "\(rejected.log)")
        #expect(try scheduled() == 1, "a rejected key update supersedes nothing, and cancels nothing")
        let statuses = try fixture.certificates(of: "hoist-1").map(\.status)
        #expect(statuses.filter { $0 == .revoked }.count == 1 && statuses.count == 4)  // the rejected one

        let claim = try fixture.authority.createClaim("batch-9", grants: [try ClientGrant(parsing: "device:crane-*")],
                                                      into: fixture.folder.appending("claims"))
        let byClaim = try fixture.cmp(["-cmd", "cr", "-newkey", try fixture.key("crane-1"), "-subject", "/CN=crane-1", "-out_trusted", foreign,
                                       "-certout", fixture.folder.path("x.pem"),
                                       "-cert", claim.folder.appendingPathComponent("cert.pem").path,
                                       "-key", claim.folder.appendingPathComponent("key.pem").path,
                                       "-extracerts", claim.folder.appendingPathComponent("chain.pem").path] + fixture.trust)
        #expect(!byClaim.succeeded)
        #expect(try fixture.certificates(of: "crane-1").map(\.status) == [.active])
        let pending = try fixture.store.store.read { db in
            try db.value(Int.self, "SELECT COUNT(*) FROM cmp_confirmations p JOIN certificates c ON c.id = p.certificate_id WHERE c.thing = 'crane-1'")
        }
        #expect(pending == 1, "left to the timeout, which withdraws it")
    }

    @Test func aClaimEnrolsTheThingsItsGrantsCoverAndStationsDoNot() throws {
        let fixture = try Fixture()
        let claims = fixture.folder.appending("claims")
        let claim = try fixture.authority.createClaim("batch-7", grants: [try ClientGrant(parsing: "device:plant-*")], into: claims)
        let claimArguments = ["-cert", claim.folder.appendingPathComponent("cert.pem").path, "-key", claim.folder.appendingPathComponent("key.pem").path,
                              "-extracerts", claim.folder.appendingPathComponent("chain.pem").path]
        let key = try fixture.key("plant-1")
        let enrolled = try fixture.cmp(["-cmd", "cr", "-newkey", key, "-subject", "/CN=plant-1", "-certout", fixture.folder.path("plant-1.pem")]
                                       + claimArguments + fixture.trust)
        #expect(enrolled.succeeded, "\(enrolled.stderr)")
        #expect(try fixture.verify(fixture.folder.path("plant-1.pem")).succeeded)
        // Outside the grants: a CMP error naming why.
        let outside = try fixture.cmp(["-cmd", "cr", "-newkey", key, "-subject", "/CN=office-1", "-certout", fixture.folder.path("x.pem")] + claimArguments + fixture.trust)
        #expect(!outside.succeeded)
        #expect(outside.log.contains("notAuthorized"), "\(outside.stderr)")
        #expect(try fixture.certificates(of: "office-1").isEmpty)
        // A station's or an operator's certificate enrols nothing over CMP, nor may it update or revoke.
        let station = try fixture.authority.createClient("line-1", role: .station, grants: [try ClientGrant(parsing: "device")],
                                                         into: fixture.folder.appending("clients"))
        let admin = try fixture.authority.createClient("alice", role: .operator, grants: [], into: fixture.folder.appending("clients"))
        for (name, client) in [("line-1", station), ("alice", admin)] {
            let certificate = client.folder.appendingPathComponent("cert.pem").path
            let arguments = ["-cert", certificate, "-key", client.folder.appendingPathComponent("key.pem").path,
                             "-extracerts", client.folder.appendingPathComponent("chain.pem").path]
            let out = ["-certout", fixture.folder.path("x.pem")]
            for command in [["-cmd", "cr", "-newkey", key, "-subject", "/CN=plant-2"] + out, ["-cmd", "kur", "-newkey", key] + out,
                            ["-cmd", "rr", "-oldcert", certificate]] {
                let refused = try fixture.cmp(command + arguments + fixture.trust)
                #expect(!refused.succeeded && refused.log.contains("notAuthorized"), "\(name) \(command): \(refused.log)")
            }
            #expect(try fixture.certificates(of: name).allSatisfy { $0.status == .active })
        }
        #expect(try fixture.certificates(of: "plant-2").isEmpty)
    }

    @Test func aDeviceUpdatesItsKeyAndRevokesOnlyItself() throws {
        let fixture = try Fixture()
        let (cert, key) = try fixture.enrol("pump-4")
        let neighbour = try fixture.enrol("pump-5")
        let next = try fixture.key("pump-4-next")
        let updated = try fixture.cmp(["-cmd", "kur", "-cert", cert, "-key", key, "-newkey", next, "-certout", fixture.folder.path("pump-4b.pem"),
                                       "-reqout", fixture.folder.path("kur.der")] + fixture.trust)
        #expect(updated.succeeded, "\(updated.stderr)")
        #expect(try fixture.verify(fixture.folder.path("pump-4b.pem")).succeeded)
        let entries = try fixture.certificates(of: "pump-4")
        #expect(entries.count == 2 && entries.allSatisfy { $0.status == .active })  // the old one runs out after the grace
        // The same key update sent again: a replay, refused; nothing more issued.
        let replay = try fixture.cmp(["-cmd", "kur", "-cert", cert, "-key", key, "-newkey", next, "-reqin", fixture.folder.path("kur.der"),
                                      "-certout", fixture.folder.path("x.pem")] + fixture.trust)
        #expect(!replay.succeeded && replay.log.contains("badSenderNonce"), "\(replay.log)")
        #expect(try fixture.certificates(of: "pump-4").count == 2)
        // Revoking the neighbour's certificate with its own key: refused.
        let foreign = try fixture.cmp(["-cmd", "rr", "-cert", fixture.folder.path("pump-4b.pem"), "-key", next, "-oldcert", neighbour.cert]
                                      + fixture.trust)
        #expect(!foreign.succeeded && foreign.log.contains("notAuthorized"), "\(foreign.log)")
        #expect(try fixture.certificates(of: "pump-5").allSatisfy { $0.status == .active })
        // Its own: revoked with the reason given, in the CRL the CA publishes at once.
        let revoked = try fixture.cmp(["-cmd", "rr", "-cert", fixture.folder.path("pump-4b.pem"), "-key", next, "-oldcert", fixture.folder.path("pump-4b.pem"), "-revreason", "1"] + fixture.trust)
        #expect(revoked.succeeded, "\(revoked.stderr)")
        let serial = try OpenSSLCLI.run(["x509", "-noout", "-serial", "-in", fixture.folder.path("pump-4b.pem")]).stdout
            .replacingOccurrences(of: "serial=", with: "").trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        let entry = try #require(try fixture.certificates(of: "pump-4").first { $0.serial.hex == serial })
        #expect(entry.status == .revoked && entry.revocationReason == RevocationReason.keyCompromise.rawValue)
        let crl = RevocationService(keyring: fixture.store.keyring).crlFiles(of: "issuing").der.path
        let listed = try OpenSSLCLI.run(["crl", "-inform", "DER", "-noout", "-text", "-in", crl])
        #expect(listed.stdout.uppercased().contains(serial.uppercased()), "\(listed.stdout)")
        // Revoked, it may do nothing more.
        let after = try fixture.cmp(["-cmd", "kur", "-cert", fixture.folder.path("pump-4b.pem"), "-key", next, "-newkey", key, "-certout", fixture.folder.path("x.pem")] + fixture.trust)
        #expect(!after.succeeded)
    }

    @Test func generalMessagesHandOutTheCACertificates() throws {
        let fixture = try Fixture()
        let (cert, key) = try fixture.enrol("gauge-1", extra: ["-implicit_confirm"])
        let answer = fixture.folder.path("genp.der")
        let result = try fixture.cmp(["-cmd", "genm", "-infotype", "caCerts", "-cert", cert, "-key", key, "-rspout", answer] + fixture.trust)
        #expect(result.succeeded, "\(result.stderr)")
        #expect(result.log.contains("id-it-caCerts"), "\(result.stderr)")
        let parsed = try OpenSSLCLI.run(["asn1parse", "-inform", "DER", "-in", answer])
        #expect(parsed.stdout.contains("issuing CA") && parsed.stdout.contains("root CA"), "\(parsed.stdout)")
    }

    @Test func unprotectedMalformedAndMislabelledRequestsAreRefused() throws {
        let fixture = try Fixture()
        _ = try fixture.authority.createEnrolmentToken(thing: "bare-1")
        let unprotected = try fixture.cmp(["-cmd", "ir", "-unprotected_requests", "-ref", "bare-1", "-newkey", try fixture.key("bare-1"),
                                           "-subject", "/CN=bare-1", "-unprotected_errors", "-certout", fixture.folder.path("x.pem")])
        #expect(!unprotected.succeeded)
        #expect(unprotected.log.contains("badMessageCheck"), "\(unprotected.stderr)")
        #expect(try fixture.certificates(of: "bare-1").isEmpty)
        // Not a PKIMessage, and not CMP's media type: a CMP error, then HTTP's 415.
        let url = fixture.server.publicURL + "/.well-known/cmp"
        let garbage = try ProcessRunner.run("curl", ["-sS", "-o", fixture.folder.path("garbage.der"), "-w", "%{http_code}",
                                                     "-H", "Content-Type: application/pkixcmp", "--data-binary", "not cmp", url])
        #expect(garbage.stdout == "200")
        let error = try OpenSSLCLI.run(["asn1parse", "-inform", "DER", "-in", fixture.folder.path("garbage.der")])
        #expect(error.succeeded && error.stdout.contains("cont [ 23 ]"), "an error message: \(error.stdout)")
        let json = try ProcessRunner.run("curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Content-Type: application/json",
                                                  "--data-binary", "{}", url])
        #expect(json.stdout == "415")
        // An unknown template label is 404; an operation path that does not match the body is refused.
        let label = try ProcessRunner.run("curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Content-Type: application/pkixcmp",
                                                   "--data-binary", "x", url + "/p/no-such-template"])
        #expect(label.stdout == "404")
        let token = try fixture.authority.createEnrolmentToken(thing: "bare-2")
        let mislabelled = try fixture.cmp(["-cmd", "ir", "-ref", "bare-2", "-secret", "pass:" + token.secret, "-newkey", try fixture.key("bare-2"),
                                           "-subject", "/CN=bare-2", "-certout", fixture.folder.path("x.pem")], path: ".well-known/cmp/revocation")
        #expect(!mislabelled.succeeded)
        #expect(try fixture.certificates(of: "bare-2").isEmpty)
    }
}

extension ProcessResult {
    /// `openssl cmp` logs its progress on stdout and its errors on stderr.
    var log: String { stdout + stderr }
}
