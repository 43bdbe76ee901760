import Foundation
import IoTCAKit
import Testing
import TestSupport

/// EST (RFC 7030) on a real `iotca serve`: curl as the client, openssl making the requests and
/// reading the answers, as a device's shell script would.
@Suite(.serialized) struct ESTTests {
    final class Fixture: @unchecked Sendable {
        let store: TemporaryStore
        let authority: CertificateAuthority
        let server: ServiceProcess
        let root: String
        /// What devices verify the EST server with: the service root (the API's certificate
        /// comes from the service's own CA).
        let serverCA: String
        var folder: TemporaryFolder { store.folder }

        init(start: Date = Date()) throws {
            store = try TemporaryStore(start: start)
            authority = CertificateAuthority(keyring: store.keyring)
            let anyBundle = try store.issue(IssueRequest(thing: "first"))
            root = anyBundle.folder.appendingPathComponent("root.pem").path
            serverCA = store.folder.path("service-root.pem")
            try AtomicFile.writePEM(try #require(try store.store.authority(named: "service-root").certificateDER), type: "CERTIFICATE",
                                    to: URL(fileURLWithPath: serverCA))
            server = try ServiceProcess(store: store.storeURL, environment: store.processEnvironment, folder: store.folder.url)
        }

        /// curl to `path` under /.well-known/est/: the status, and the body decoded from base64
        /// into `out` when the status is 200.
        func est(_ path: String, body: URL? = nil, user: String? = nil, cert: (String, String)? = nil, out: String) throws -> Int {
            var arguments = ["-sS", "--cacert", serverCA, "-o", folder.path(out + ".b64"), "-w", "%{http_code}"]
            if let user { arguments += ["-u", user] }
            if let (certificate, key) = cert { arguments += ["--cert", certificate, "--key", key] }
            if let body { arguments += ["-H", "Content-Type: application/pkcs10", "--data-binary", "@" + body.path] }
            let result = try ProcessRunner.run("curl", arguments + [server.apiURL + "/.well-known/est/" + path])
            let status = Int(result.stdout) ?? 0
            if status == 200 {
                let text = try String(contentsOf: folder.appending(out + ".b64"), encoding: .utf8)
                try #require(Data(base64Encoded: text, options: .ignoreUnknownCharacters)).write(to: folder.appending(out + ".der"))
            }
            return status
        }

        /// A new P-256 key and a base64 DER CSR for it with `subject`.
        func request(_ name: String, subject: String) throws -> URL {
            let key = folder.path(name + ".key")
            _ = try OpenSSLCLI.run(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key])
            let der = folder.appending(name + ".der")
            _ = try OpenSSLCLI.run(["req", "-new", "-key", key, "-subj", subject, "-outform", "DER", "-out", der.path])
            let b64 = folder.appending(name + ".b64csr")
            try Data(try Data(contentsOf: der).base64EncodedString(options: .lineLength64Characters).utf8).write(to: b64)
            return b64
        }

        /// The certificates of a certs-only answer, as PEM in `out`.pem.
        func certificates(_ out: String) throws -> String {
            let result = try OpenSSLCLI.run(["pkcs7", "-inform", "DER", "-in", folder.path(out + ".der"), "-print_certs", "-out", folder.path(out + ".pem")])
            #expect(result.succeeded, "\(result.stderr)")
            return try String(contentsOf: folder.appending(out + ".pem"), encoding: .utf8)
        }

        func verify(_ pem: String) throws -> ProcessResult {
            let chain = folder.path("first-chain.pem")
            try? FileManager.default.copyItem(atPath: root.replacingOccurrences(of: "root.pem", with: "chain.pem"), toPath: chain)
            return try OpenSSLCLI.run(["verify", "-x509_strict", "-purpose", "sslclient", "-CAfile", root, "-untrusted", chain, pem])
        }
    }

    @Test func cacertsAndCSRAttributesNeedNoCredentials() throws {
        let fixture = try Fixture()
        #expect(try fixture.est("cacerts", out: "cacerts") == 200)
        let text = try fixture.certificates("cacerts")
        #expect(text.contains("issuing CA") && text.contains("root CA"), "\(text)")
        #expect(try fixture.est("csrattrs", out: "attrs") == 200)
        let parsed = try OpenSSLCLI.run(["asn1parse", "-inform", "DER", "-in", fixture.folder.path("attrs.der")])
        #expect(parsed.stdout.contains("ecdsa-with-SHA256") && parsed.stdout.contains("prime256v1"), "\(parsed.stdout)")
    }

    @Test func aTokenEnrolsOnceAndOnlyItsThing() throws {
        let fixture = try Fixture()
        let token = try fixture.authority.createEnrolmentToken(thing: "sensor-1")
        let csr = try fixture.request("sensor-1", subject: "/CN=anything the device likes")
        // Wrong secret, and the right secret for another thing: 401, the token still good.
        #expect(try fixture.est("simpleenroll", body: csr, user: "sensor-1:wrong", out: "a") == 401)
        #expect(try fixture.est("simpleenroll", body: csr, user: "sensor-2:\(token.secret)", out: "a") == 401)
        #expect(try fixture.est("simpleenroll", body: csr, out: "a") == 401)  // no credentials at all
        // The right secret with a malformed request or another template's label: refused, and
        // the token neither spent nor touched (no audit event either).
        let eventsBefore = try fixture.store.store.events().count
        let garbage = fixture.folder.appending("garbage.b64csr")
        try Data(Data("not a certificate request".utf8).base64EncodedString().utf8).write(to: garbage)
        #expect(try fixture.est("simpleenroll", body: garbage, user: "sensor-1:\(token.secret)", out: "a") == 422)
        #expect(try fixture.est("server/simpleenroll", body: csr, user: "sensor-1:\(token.secret)", out: "a") == 422)
        #expect(try fixture.store.store.events().count == eventsBefore)
        #expect(try fixture.est("simpleenroll", body: csr, user: "sensor-1:\(token.secret)", out: "enrolled") == 200)
        let pem = try fixture.certificates("enrolled")
        #expect(pem.contains("CN = sensor-1") || pem.contains("CN=sensor-1"), "\(pem)")
        let verified = try fixture.verify(fixture.folder.path("enrolled.pem"))
        #expect(verified.succeeded, "\(verified.stdout) \(verified.stderr)")
        // Spent: the same secret again is refused, and nothing more was issued.
        #expect(try fixture.est("simpleenroll", body: csr, user: "sensor-1:\(token.secret)", out: "again") == 401)
        #expect(try fixture.store.store.certificates(CertificateFilter(thing: "sensor-1")).count == 1)
        let events = try fixture.store.store.events().map(\.action)
        #expect(events.contains("enrolment.token") && events.contains("enrolment.token.spent"))
    }

    @Test func anExpiredTokenIsRefused() throws {
        // The token is made on a clock eight days behind the server's.
        let fixture = try Fixture(start: Date().addingTimeInterval(-8 * 86_400))
        let token = try fixture.authority.createEnrolmentToken(thing: "late-1")
        let csr = try fixture.request("late-1", subject: "/CN=late-1")
        #expect(try fixture.est("simpleenroll", body: csr, user: "late-1:\(token.secret)", out: "late") == 401)
        let answer = try String(contentsOf: fixture.folder.appending("late.b64"), encoding: .utf8)
        #expect(answer.contains("expired"), "\(answer)")
    }

    @Test func aDeviceRenewsWithItsCurrentCertificateAndOnlyAsItself() throws {
        let fixture = try Fixture()
        let device = try fixture.store.issue(IssueRequest(thing: "meter-7"))
        let current = (device.folder.appendingPathComponent("cert.pem").path, device.folder.appendingPathComponent("key.pem").path)
        // A CSR for a new key with the current certificate's subject, as `openssl x509 -x509toreq` makes it.
        let newKey = fixture.folder.path("meter-7-next.key")
        _ = try OpenSSLCLI.run(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", newKey])
        let pemRequest = fixture.folder.path("meter-7-next.csr")
        _ = try OpenSSLCLI.run(["x509", "-x509toreq", "-in", current.0, "-signkey", newKey, "-out", pemRequest])
        let der = fixture.folder.appending("meter-7-next.der")
        _ = try OpenSSLCLI.run(["req", "-in", pemRequest, "-outform", "DER", "-out", der.path])
        let body = fixture.folder.appending("meter-7-next.b64csr")
        try Data(try Data(contentsOf: der).base64EncodedString().utf8).write(to: body)

        #expect(try fixture.est("simplereenroll", body: body, out: "none") == 401)  // no client certificate
        let other = try fixture.request("meter-7-other", subject: "/CN=meter-8")
        #expect(try fixture.est("simplereenroll", body: other, cert: current, out: "other") == 400)  // another subject
        // A label names the template to renew under: only the certificate's own (an attacker
        // holding a device key may not turn it into a server certificate).
        #expect(try fixture.est("server/simplereenroll", body: body, cert: current, out: "relabelled") == 422)
        #expect(try fixture.store.store.certificates(CertificateFilter(thing: "meter-7")).count == 1)
        #expect(try fixture.est("device/simplereenroll", body: body, cert: current, out: "renewed") == 200)
        let pem = try fixture.certificates("renewed")
        #expect(try fixture.verify(fixture.folder.path("renewed.pem")).succeeded)
        let renewed = try fixture.store.store.certificates(CertificateFilter(thing: "meter-7"))
        #expect(renewed.count == 2 && renewed.allSatisfy { $0.status == .active })  // the old one runs out on its own
        #expect(pem.contains("meter-7"))
        // A revoked certificate may not renew itself.
        _ = try fixture.authority.revoke(.serial(device.entry.serial, authority: nil), reason: .keyCompromise)
        #expect(try fixture.est("simplereenroll", body: body, cert: current, out: "revoked") == 403)
        // Nor may a station's certificate (re-enrolment is for devices).
        let station = try fixture.authority.createClient("line-1", role: .station, grants: [try ClientGrant(parsing: "device")],
                                                         into: fixture.folder.appending("clients"))
        let stationCert = (station.folder.appendingPathComponent("cert.pem").path, station.folder.appendingPathComponent("key.pem").path)
        #expect(try fixture.est("simplereenroll", body: body, cert: stationCert, out: "station") == 403)
    }

    /// AWS IoT's fleet provisioning by claim, as EST: a claim certificate shared by a batch
    /// enrols the things its grants cover, each once, and nothing once it is revoked.
    @Test func aClaimCertificateEnrolsOnlyTheThingsItsGrantsCover() throws {
        let fixture = try Fixture()
        let claims = fixture.folder.appending("claims")
        let created = try ProcessRunner.run(ProcessRunner.iotcaExecutable, ["claim", "create", "batch-7", "--grant", "device:plant-*",
                                                                            "--store", fixture.store.storeURL.path, "--out", claims.path],
                                            environment: ["IOTCA_PASSPHRASE": TemporaryStore.passphrase])
        #expect(created.succeeded, "\(created.stderr)")
        let claim = (claims.appendingPathComponent("batch-7/cert.pem").path, claims.appendingPathComponent("batch-7/key.pem").path)
        let plant = try fixture.request("plant-1", subject: "/CN=plant-1")
        #expect(try fixture.est("simpleenroll", body: plant, cert: claim, out: "plant-1") == 200)
        #expect(try fixture.certificates("plant-1").contains("plant-1"))
        #expect(try fixture.verify(fixture.folder.path("plant-1.pem")).succeeded)
        #expect(try fixture.est("simpleenroll", body: plant, cert: claim, out: "again") == 403)  // a claim makes new things only
        let outside = try fixture.request("office-1", subject: "/CN=office-1")
        #expect(try fixture.est("simpleenroll", body: outside, cert: claim, out: "office") == 403)
        // A claim may call nothing else, and a station may not enrol by claim.
        let whoami = try ProcessRunner.run("curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", fixture.serverCA,
                                                    "--cert", claim.0, "--key", claim.1, fixture.server.apiURL + "/v1/whoami"])
        #expect(whoami.stdout == "403")
        // Revoked: the batch ends.
        _ = try fixture.authority.revoke(.thing("batch-7"))
        let next = try fixture.request("plant-2", subject: "/CN=plant-2")
        #expect(try fixture.est("simpleenroll", body: next, cert: claim, out: "plant-2") == 403)
        let enrolled = try fixture.store.store.events().filter { $0.action == "certificate.issue" && $0.subject == "plant-1" }
        #expect(enrolled.first?.details.contains("claim:batch-7:") == true)
    }
}
