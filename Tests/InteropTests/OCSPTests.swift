import Foundation
import IoTCAKit
import Testing
import TestSupport

/// The OCSP responder of a real `iotca serve`, asked by `openssl ocsp`, curl and nginx; the
/// answers checked by openssl and linted by pkilint.
@Suite(.serialized) struct OCSPTests {
    final class Fixture: @unchecked Sendable {
        let store: TemporaryStore
        let authority: CertificateAuthority
        let server: ServiceProcess
        let good: IssueResult
        let revoked: IssueResult
        var environment: [String: String] { store.processEnvironment }

        init() throws {
            // The public URL puts the OCSP URL in certificates; the tests ask the real port.
            store = try TemporaryStore(publicURL: "http://ocsp.example.com/pki")
            authority = CertificateAuthority(keyring: store.keyring)
            good = try store.issue(IssueRequest(thing: "dev-good"))
            revoked = try store.issue(IssueRequest(thing: "dev-revoked"))
            _ = try authority.revoke(.thing("dev-revoked"), reason: .keyCompromise)
            server = try ServiceProcess(store: store.storeURL, environment: store.processEnvironment, folder: store.folder.url)
        }

        var url: String { server.publicURL + "/ocsp" }

        /// `openssl ocsp` about `bundle`'s certificate: its printed lines.
        func ask(_ bundle: URL, nonce: Bool = true, extra: [String] = []) throws -> String {
            let result = try OpenSSLCLI.run(["ocsp", "-issuer", bundle.appendingPathComponent("chain.pem").path,
                                          "-cert", bundle.appendingPathComponent("cert.pem").path, "-url", url,
                                          "-CAfile", bundle.appendingPathComponent("root.pem").path,
                                          "-verify_other", bundle.appendingPathComponent("chain.pem").path, "-resp_text"]
                                         + (nonce ? [] : ["-no_nonce"]) + extra)
            return result.stdout + result.stderr
        }
    }

    @Test func goodRevokedAndUnknownAnswersVerifyInOpenSSLWithAndWithoutNonce() throws {
        let fixture = try Fixture()
        // The certificates name the responder.
        let text = try OpenSSLCLI.text(ofCertificate: fixture.good.folder.appendingPathComponent("cert.pem").path)
        #expect(text.contains("OCSP - URI:http://ocsp.example.com/pki/ocsp"))
        #expect(text.contains("CA Issuers - URI:http://ocsp.example.com/pki/issuing.crt"))
        for nonce in [true, false] {
            let good = try fixture.ask(fixture.good.folder, nonce: nonce)
            #expect(good.contains("Response verify OK"), "\(good)")
            #expect(good.contains("cert.pem: good"))
            #expect(good.contains("Next Update:"))
            #expect(good.contains("OCSP Nonce") == nonce, "\(good)")
            let revoked = try fixture.ask(fixture.revoked.folder, nonce: nonce)
            #expect(revoked.contains("Response verify OK"), "\(revoked)")
            #expect(revoked.contains("cert.pem: revoked"))
            #expect(revoked.contains("Reason: keyCompromise"))
            #expect(revoked.contains("Revocation Time:"))
        }
        // A serial this CA never issued.
        let chain = fixture.good.folder.appendingPathComponent("chain.pem").path
        let unknown = try OpenSSLCLI.run(["ocsp", "-issuer", chain, "-serial", "0x0123456789", "-url", fixture.url,
                                       "-CAfile", fixture.good.folder.appendingPathComponent("root.pem").path, "-verify_other", chain])
        #expect((unknown.stdout + unknown.stderr).contains("0x0123456789: unknown"), "\(unknown.stdout) \(unknown.stderr)")
        // The issuing CA's own certificate, answered for by the root's signer.
        let root = fixture.good.folder.appendingPathComponent("root.pem").path
        let ca = try OpenSSLCLI.run(["ocsp", "-issuer", root, "-cert", chain, "-url", fixture.url, "-CAfile", root])
        #expect(ca.stdout.contains("chain.pem: good"), "\(ca.stdout) \(ca.stderr)")
    }

    @Test func aRevocationByAnotherProcessIsAnsweredOnTheNextRequest() throws {
        let fixture = try Fixture()
        let folder = fixture.store.folder
        let request = folder.appending("request.der")
        _ = try OpenSSLCLI.run(["ocsp", "-issuer", fixture.good.folder.appendingPathComponent("chain.pem").path,
                             "-cert", fixture.good.folder.appendingPathComponent("cert.pem").path, "-no_nonce", "-reqout", request.path])
        let encoded = try Data(contentsOf: request).base64EncodedString()
            .addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        func get(_ name: String) throws -> (headers: String, body: Data) {
            let body = folder.appending(name)
            let result = try ProcessRunner.run("curl", ["-sS", "-D", "-", "-o", body.path, fixture.url + "/" + encoded])
            return (result.stdout, try Data(contentsOf: body))
        }
        let first = try get("first.der"), second = try get("second.der")
        #expect(first.headers.contains("application/ocsp-response"))
        #expect(first.headers.contains("Cache-Control: max-age="), "\(first.headers)")
        #expect(first.headers.contains("ETag: "))
        #expect(first.body == second.body)  // the cached answer, not signed again
        let status = try OpenSSLCLI.run(["ocsp", "-respin", folder.path("first.der"), "-resp_text", "-noverify"])
        #expect(status.stdout.contains("Cert Status: good"))

        // The CLI revokes on the same store while the server runs.
        let revoke = try ProcessRunner.run(ProcessRunner.iotcaExecutable, ["revoke", "--thing", "dev-good", "--store", fixture.store.storeURL.path],
                                           environment: fixture.environment)
        #expect(revoke.succeeded, "\(revoke.stderr)")
        let after = try get("after.der")
        let text = try OpenSSLCLI.run(["ocsp", "-respin", folder.path("after.der"), "-resp_text", "-noverify"])
        #expect(text.stdout.contains("Cert Status: revoked"), "\(text.stdout)")
        #expect(after.body != first.body)
    }

    /// Requests pipelined on one connection, OCSP (answered beside the router once the signer
    /// is certified) and others (answered by the router): the answers come back in order.
    @Test func pipelinedRequestsAreAnsweredInOrder() throws {
        let fixture = try Fixture()
        let folder = fixture.store.folder
        _ = try fixture.ask(fixture.good.folder)  // the signer certified
        func request(_ bundle: URL, _ name: String) throws -> String {
            let out = folder.appending(name)
            _ = try OpenSSLCLI.run(["ocsp", "-issuer", bundle.appendingPathComponent("chain.pem").path,
                                    "-cert", bundle.appendingPathComponent("cert.pem").path, "-reqout", out.path])
            return out.path
        }
        let good = try request(fixture.good.folder, "good.req"), revoked = try request(fixture.revoked.folder, "revoked.req")
        let script = folder.appending("pipeline.py")
        try Data(Self.pipelineScript.utf8).write(to: script)
        let port = try #require(fixture.server.publicURL.split(separator: ":").last.map(String.init))
        let result = try ProcessRunner.run("/usr/bin/python3", [script.path, port, good, revoked, folder.url.path], timeout: 60)
        #expect(result.stdout.split(separator: "\n") == [
            "200 application/ocsp-response", "200 text/plain", "200 application/ocsp-response", "200 application/ocsp-response",
            "200 text/plain",
        ], "\(result.stdout) \(result.stderr)")
        for (index, status) in [(0, "good"), (2, "revoked"), (3, "good")] {
            let text = try OpenSSLCLI.run(["ocsp", "-respin", folder.path("answer-\(index).der"), "-resp_text", "-noverify"]).stdout
            #expect(text.contains("Cert Status: \(status)"), "answer \(index): \(text)")
        }
        // The first after the signer's certification was answered beside the router, the two
        // behind the pipelined health check by the router.
        let metrics = try ProcessRunner.run("curl", ["-sS", fixture.server.publicURL + "/metrics"]).stdout
        let beside = metrics.split(separator: "\n").first { $0.hasPrefix("iotca_ocsp_answered_beside_router_total ") }
        #expect(beside.flatMap { Int($0.split(separator: " ").last ?? "") } ?? 0 >= 1, "\(metrics)")
    }

    /// Sends its requests in one write and reads the answers off one buffered stream.
    static let pipelineScript = #"""
    import base64, socket, sys, urllib.parse
    port, good, revoked, out = int(sys.argv[1]), open(sys.argv[2], "rb").read(), open(sys.argv[3], "rb").read(), sys.argv[4]
    def post(der):
        return b"POST /ocsp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/ocsp-request\r\nContent-Length: %d\r\n\r\n" % len(der) + der
    def get(path):
        return b"GET " + path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    encoded = urllib.parse.quote(base64.b64encode(good).decode(), safe="")
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    sock.sendall(post(good) + get("/healthz") + post(revoked) + get("/ocsp/" + encoded) + get("/healthz"))
    stream = sock.makefile("rb")
    for index in range(5):
        status = stream.readline().split()[1].decode()
        headers = {}
        while True:
            line = stream.readline()
            if line in (b"\r\n", b""):
                break
            name, value = line.decode().split(":", 1)
            headers[name.strip().lower()] = value.strip()
        body = stream.read(int(headers.get("content-length", "0")))
        print(status, headers.get("content-type", "").split(";")[0])
        open("%s/answer-%d.der" % (out, index), "wb").write(body)
    """#

    @Test func malformedForeignAndOversizedRequestsAreRefusedAsOCSPSays() throws {
        let fixture = try Fixture()
        func post(_ body: Data) throws -> (status: String, body: Data) {
            let file = fixture.store.folder.appending("body.bin"), answer = fixture.store.folder.appending("answer.der")
            try body.write(to: file)
            let result = try ProcessRunner.run("curl", ["-sS", "-o", answer.path, "-w", "%{http_code}", "-H", "content-type: application/ocsp-request",
                                                         "--data-binary", "@" + file.path, fixture.url])
            return (result.stdout, (try? Data(contentsOf: answer)) ?? Data())
        }
        let garbage = try post(Data("not DER at all".utf8))
        #expect(garbage.status == "200" && Array(garbage.body) == [0x30, 0x03, 0x0A, 0x01, 0x01])  // malformedRequest
        // A certificate of another store's CA: unauthorized.
        let other = try TemporaryStore(encrypted: false)
        let stranger = try other.issue(IssueRequest(thing: "stranger"))
        let answer = try OpenSSLCLI.run(["ocsp", "-issuer", stranger.folder.appendingPathComponent("chain.pem").path,
                                      "-cert", stranger.folder.appendingPathComponent("cert.pem").path, "-url", fixture.url, "-noverify"])
        #expect((answer.stdout + answer.stderr).contains("unauthorized"), "\(answer.stdout) \(answer.stderr)")
        let oversized = try post(Data(repeating: 0x30, count: 64 * 1024))
        #expect(oversized.status == "413")
    }

    @Test func answersAndTheSignerCertificateAreLintClean() throws {
        let fixture = try Fixture()
        for (bundle, name) in [(fixture.good.folder, "good.der"), (fixture.revoked.folder, "revoked.der")] {
            let out = fixture.store.folder.appending(name)
            _ = try fixture.ask(bundle, extra: ["-respout", out.path])
            #expect(try LintTests.lint("lint_ocsp_response", [out.path]).isEmpty)
            // The delegated signer: OCSPSigning, ocsp-nocheck, issued by the CA, lint-clean.
            let text = try OpenSSLCLI.run(["ocsp", "-respin", out.path, "-resp_text", "-noverify"]).stdout
            #expect(text.contains("OCSP Signing") && text.contains("OCSP No Check"), "\(text)")
            let pem = text.components(separatedBy: "-----BEGIN CERTIFICATE-----").last.map { "-----BEGIN CERTIFICATE-----" + $0 } ?? ""
            let signer = fixture.store.folder.appending("signer.pem")
            try Data(pem.utf8).write(to: signer)
            #expect(try LintTests.lintCertificate(signer.path).isEmpty)
        }
        // Recorded like every certificate the CA signs.
        var all = CertificateFilter()
        all.includeAuthorities = true
        let signers = try fixture.store.store.certificates(all).filter { $0.template == "ocsp-signer" }
        #expect(signers.count == 1)
    }

    /// nginx asks iotca's responder about every client certificate (`ssl_ocsp`): a device
    /// revoked with the CLI is refused on its next connection, with no reload of anything.
    @Test(.enabled(if: Nginx.isInstalled)) func nginxRefusesADeviceTheMomentItIsRevoked() throws {
        let fixture = try Fixture()
        let server = try fixture.store.issue(IssueRequest(thing: "gateway", template: "server", subjectAltNames: [try SubjectAltName("ip:127.0.0.1")]))
        let device = try fixture.store.issue(IssueRequest(thing: "dev-nginx"))
        let folder = fixture.store.folder
        let chain = folder.appending("server-chain.pem"), cas = folder.appending("client-cas.pem")
        try (Data(contentsOf: server.folder.appendingPathComponent("cert.pem")) + Data(contentsOf: server.folder.appendingPathComponent("chain.pem")))
            .write(to: chain)
        try (Data(contentsOf: server.folder.appendingPathComponent("chain.pem")) + Data(contentsOf: server.folder.appendingPathComponent("root.pem")))
            .write(to: cas)
        let nginx = try Nginx(folder: folder.url, server: """
                ssl_certificate \(chain.path);
                ssl_certificate_key \(server.folder.appendingPathComponent("key.pem").path);
                ssl_client_certificate \(cas.path);
                ssl_verify_client on;
                ssl_verify_depth 2;
                ssl_ocsp on;
                ssl_ocsp_responder \(fixture.url);
                location / { return 200 "hello $ssl_client_s_dn\\n"; }
            """)
        defer { nginx.stop() }
        func call() throws -> String {
            try ProcessRunner.run("curl", ["-sS", "--cacert", device.folder.appendingPathComponent("root.pem").path,
                                           "--cert", device.folder.appendingPathComponent("cert.pem").path,
                                           "--key", device.folder.appendingPathComponent("key.pem").path,
                                           "-w", "%{http_code}", "https://127.0.0.1:\(nginx.port)/"], timeout: 30).stdout
        }
        let before = try call()
        #expect(before.hasPrefix("hello") && before.hasSuffix("200"), "\(before) \((try? String(contentsOf: nginx.errorLog, encoding: .utf8)) ?? "")")
        let revoke = try ProcessRunner.run(ProcessRunner.iotcaExecutable, ["revoke", "--thing", "dev-nginx", "--store", fixture.store.storeURL.path],
                                           environment: fixture.environment)
        #expect(revoke.succeeded, "\(revoke.stderr)")
        let after = try call()
        #expect(after.hasSuffix("400"), "\(after)")
        let log = (try? String(contentsOf: nginx.errorLog, encoding: .utf8)) ?? ""
        #expect(log.contains("certificate revoked"), "\(log)")
    }
}
