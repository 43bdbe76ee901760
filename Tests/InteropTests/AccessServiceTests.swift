import Foundation
import IoTCAKit
import Testing
import TestSupport

/// The service's doors tried from the attacker's side, on a real `iotca serve`: a station asking
/// for more than its grants, a client pointed at an impostor server, a server whose answers lie,
/// a guesser at EST, OCSP under a revoked CA. Each refusal with its status and problem type, and
/// nothing recorded.
@Suite(.serialized) struct AccessServiceTests {
    typealias Fixture = ServiceTests.Fixture

    /// A station granted every device and server name: the widest grant a factory gets.
    static func wideStation(_ fixture: Fixture) throws {
        _ = try fixture.authority.createClient("wide", role: .station, grants: [try ClientGrant(parsing: "device:*"), try ClientGrant(parsing: "server:*")],
                                               into: fixture.clients)
    }

    static func json(_ object: [String: Any]) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
    }

    @Test func aStationCannotRenewReplaceOrRevokeWhatItCouldNotHaveIssued() throws {
        let fixture = try Fixture()
        try Self.wideStation(fixture)
        let before = try fixture.certificateCount()
        let events = try fixture.store.store.events().count
        // The operator, another station, and the API's own server certificate.
        for (thing, template) in [("alice", "device"), ("alice", "server"), ("line1", "device"), ("localhost", "server"), ("localhost", "device")] {
            let answer = try fixture.call("/v1/certificates", as: "wide",
                                          json: try Self.json(["thing": thing, "template": template, "renew": true, "supersede": true]))
            let problem = try fixture.problem(answer.body)
            #expect(answer.status == 403 && problem == "forbidden", "\(thing) \(template): \(answer.body)")
        }
        for path in ["/v1/certificates/\(try fixture.store.store.certificates(CertificateFilter(thing: "alice")).first?.serial.hex ?? "")/revoke",
                     "/v1/things/alice/revoke", "/v1/crls"] {
            let answer = try fixture.call(path, as: "wide", json: "{}")
            let problem = try fixture.problem(answer.body)
            #expect(answer.status == 403 && problem == "forbidden", "\(path): \(answer.body)")
        }
        #expect(try fixture.call("/v1/audit", as: "wide").status == 403)
        #expect(try fixture.certificateCount() == before)
        #expect(try fixture.store.store.events().count == events)
        // Alice still works.
        #expect(try fixture.call("/v1/whoami", as: "alice").status == 200)
    }

    @Test func namesCAsAndValidityStayInsideTheGrantAndTheTemplate() throws {
        let fixture = try Fixture()
        _ = try fixture.authority.createClient("gw", role: .station, grants: [try ClientGrant(parsing: "server:gw-*")], into: fixture.clients)
        let before = try fixture.certificateCount()
        let hostile: [([String: Any], Int, String)] = [
            (["thing": "gw-1", "template": "server", "subject_alt_names": ["dns:localhost", "ip:127.0.0.1"]], 403, "forbidden"),
            (["thing": "localhost", "template": "server"], 403, "forbidden"),
            (["thing": "gw-1", "template": "server", "ca": "root"], 403, "forbidden"),
            (["thing": "gw-1", "template": "server", "ca": "service"], 403, "forbidden"),
            (["thing": "gw-1", "template": "server", "validity": "9y"], 422, "policy"),
            (["thing": "gw-1", "template": "/etc/passwd"], 404, "not-found"),
            (["thing": "gw-1", "template": "../templates/server"], 404, "not-found"),
        ]
        for (body, status, problem) in hostile {
            let answer = try fixture.call("/v1/certificates", as: "gw", json: try Self.json(body))
            let name = try fixture.problem(answer.body)
            #expect(answer.status == status && name == problem, "\(body): \(answer.body)")
            #expect(!answer.body.contains(fixture.store.folder.url.path), "no server path in \(answer.body)")
        }
        // The operator may not make a root issue to a thing either.
        let root = try fixture.call("/v1/certificates", as: "alice", json: #"{"thing":"gw-9","template":"server","ca":"root"}"#)
        #expect(root.status == 422, "\(root.body)")
        #expect(try fixture.certificateCount() == before)
        // Within the grant: exactly the template's names, a shorter validity allowed.
        let issued = try fixture.call("/v1/certificates", as: "gw", json: #"{"thing":"gw-1","template":"server","validity":"30d"}"#)
        #expect(issued.status == 201, "\(issued.body)")
        let record = try #require(try fixture.object(issued.body)["certificate"] as? [String: Any])
        #expect(record["subject_alt_names"] as? [String] == ["dns:gw-1"])
    }

    @Test func aStationReadsWhatIdentifiesCAsNotWhereTheirKeysAreOrWhatTheyRun() throws {
        let fixture = try Fixture()
        _ = try fixture.authority.configureCA("issuing", onPublish: "systemctl reload mosquitto")
        let station = try fixture.call("/v1/cas", as: "line1")
        #expect(station.status == 200)
        for hidden in ["key_file", "on_publish", "key_encrypted", "keys/", "systemctl"] {
            #expect(!station.body.contains(hidden), "\(hidden) in \(station.body)")
        }
        #expect(station.body.contains("\"spki_sha256\""))
        let operatorView = try fixture.call("/v1/cas", as: "alice")
        #expect(operatorView.body.contains("key_file") && operatorView.body.contains("systemctl reload mosquitto"))
    }

    /// A disabled CA stops issuing; what it issued stays valid, its clients included (revoking
    /// it ends them: `ServiceUnitTests`).
    @Test func clientsOfADisabledCAKeepWorkingWhileItIssuesNothing() throws {
        let fixture = try Fixture()
        _ = try fixture.authority.setStatus(.disabled, of: "service")
        #expect(try fixture.call("/v1/whoami", as: "alice").status == 200)
        #expect(try fixture.call("/v1/certificates", as: "line1", json: #"{"thing":"line1-0042"}"#).status == 201)
        #expect(throws: AuthorityError.self) { try fixture.authority.createClient("bob", role: .operator, grants: [], into: fixture.clients) }
        _ = try fixture.authority.setStatus(.disabled, of: "issuing")
        let refused = try fixture.call("/v1/certificates", as: "line1", json: #"{"thing":"line1-0043"}"#)
        let problem = try fixture.problem(refused.body)
        #expect(refused.status == 503 && problem == "unavailable", "\(refused.body)")
    }

    /// The client trusts the API, not the PKI: a server with a perfectly valid server
    /// certificate of the same store (what a station granted `server:*` can get) is refused,
    /// as is the real API when the client is pointed at the devices' root.
    @Test func theClientRefusesAnyServerButTheAPI() throws {
        let fixture = try Fixture()
        let impostor = fixture.store.folder.appending("impostor")
        // What a station granted server:* could obtain; here the operator makes it, with the name.
        _ = try fixture.store.issue(IssueRequest(thing: "impostor", template: "server", subjectAltNames: [try SubjectAltName("ip:127.0.0.1")]))
        let bundle = fixture.store.bundles.appendingPathComponent("impostor")
        let port = try Broker.freePort()
        let pid = try Spawn.start("/usr/bin/openssl", ["s_server", "-accept", "127.0.0.1:\(port)", "-cert", bundle.path + "/cert.pem",
                                                       "-key", bundle.path + "/key.pem", "-cert_chain", bundle.path + "/chain.pem", "-www",
                                                       "-quiet"], stdout: impostor, stderr: impostor)
        defer { _ = Spawn.stop(pid) }
        #expect(FileWatch.wait(in: fixture.store.folder.url, timeout: 20) { Broker.accepts(port: port) })
        var environment = ServiceTests().remote(fixture, as: "line1")
        environment["IOTCA_SERVER"] = "https://127.0.0.1:\(port)"
        let refused = try ServiceTests().iotca(["list"], environment, in: fixture.store.folder.url)
        #expect(refused.status != 0 && refused.stdout.isEmpty, "\(refused)")
        #expect(refused.stderr.contains("is not the iotca API this client trusts"), "\(refused.stderr)")
        // The real API, trusted through the station's own bundle: fine; through the devices' root: refused.
        let real = ServiceTests().remote(fixture, as: "line1")
        #expect(try ServiceTests().iotca(["list"], real, in: fixture.store.folder.url).succeeded)
        var wrongTrust = real
        wrongTrust["IOTCA_SERVER_CA"] = bundle.path + "/root.pem"
        #expect(try ServiceTests().iotca(["list"], wrongTrust, in: fixture.store.folder.url).status != 0)
    }

    /// A server that lies: its answer names another thing (a path out of --out) or certifies
    /// another key. The client writes nothing, anywhere.
    @Test func aLyingServerMakesTheClientWriteNothing() throws {
        let fixture = try Fixture()
        let folder = fixture.store.folder
        // A genuine answer to copy from, then a server of the service's own CA that serves lies.
        let genuine = try fixture.call("/v1/certificates", as: "line1", json: #"{"thing":"line1-0001"}"#)
        #expect(genuine.status == 201)
        let liar = try fixture.store.provisioner.issue(IssueRequest(thing: "liar", authority: "service", template: "api-server",
                                                                    subjectAltNames: [try SubjectAltName("ip:127.0.0.1")]),
                                                       bundleParent: folder.appending("liar"))
        var answer = try fixture.object(genuine.body)
        var manifest = try #require(answer["manifest"] as? [String: Any])
        let port = try Broker.freePort()
        let script = folder.appending("liar.py")
        try Data(LyingServer.script.utf8).write(to: script)
        for (label, thing, lie) in [("traversal", "../../escaped", "thing"), ("other record", "line1-0002", "serial"),
                                    ("other key", "line1-0003", "key")] {
            answer["thing"] = thing
            manifest["thing"] = thing
            answer["manifest"] = manifest
            var record = try #require(answer["certificate"] as? [String: Any])
            record["thing"] = thing
            if lie == "serial" { record["serial"] = "01" + String((record["serial"] as? String ?? "").dropFirst(2)) }
            answer["certificate"] = record
            if lie == "key" {
                answer["private_key_pem"] = try OpenSSLCLI.run(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"]).stdout
            }
            let body = folder.appending("answer.json")
            try JSONSerialization.data(withJSONObject: answer).write(to: body)
            let pid = try Spawn.start("/usr/bin/python3", [script.path, "\(port)", liar.folder.path, body.path],
                                      stdout: folder.appending("liar.log"), stderr: folder.appending("liar.err"))
            defer { _ = Spawn.stop(pid) }
            #expect(FileWatch.wait(in: folder.url, timeout: 20) { Broker.accepts(port: port) })
            var environment = ServiceTests().remote(fixture, as: "line1")
            environment["IOTCA_SERVER"] = "https://127.0.0.1:\(port)"
            let work = folder.appending("work-\(label.replacingOccurrences(of: " ", with: "-"))")
            try FileManager.default.createDirectory(at: work.appendingPathComponent("a/b"), withIntermediateDirectories: true)
            let asked = lie == "thing" ? "line1-0002" : thing
            let result = try ServiceTests().iotca(["issue", asked, "--out", "a/b/out"], environment, in: work)
            #expect(result.status == CLIStatus.authorityUnavailable.rawValue && result.stderr.contains("answer is refused"), "\(label): \(result)")
            let written = FileManager.default.enumerator(atPath: work.path)?.allObjects as? [String] ?? []
            #expect(written.allSatisfy { ["a", "a/b", "a/b/out"].contains($0) || $0.hasPrefix("a/b/out/.iotca") }, "\(label): \(written)")
            #expect(!FileManager.default.fileExists(atPath: work.appendingPathComponent("a/escaped").path))
        }
    }

    @Test func estRefusesGuessersAndUnknownLabels() throws {
        let fixture = try ESTTests.Fixture()
        let csr = try fixture.request("guess", subject: "/CN=guess-1")
        _ = try fixture.authority.createEnrolmentToken(thing: "guess-1")
        // Ten wrong guesses from this address are answered 401; then every attempt is 429.
        for attempt in 0..<10 {
            #expect(try fixture.est("simpleenroll", body: csr, user: "guess-1:wrong-\(attempt)", out: "g") == 401)
        }
        let headers = fixture.folder.appending("headers")
        let limited = try ProcessRunner.run("curl", ["-sS", "--cacert", fixture.serverCA, "-D", headers.path, "-o", "/dev/null", "-w", "%{http_code}",
                                                     "-u", "guess-1:wrong", "-H", "Content-Type: application/pkcs10", "--data-binary", "@" + csr.path,
                                                     fixture.server.apiURL + "/.well-known/est/simpleenroll"])
        #expect(limited.stdout == "429")
        #expect(try String(contentsOf: headers, encoding: .utf8).lowercased().contains("retry-after:"))
        let metrics = try ProcessRunner.run("curl", ["-sS", fixture.server.publicURL + "/metrics"]).stdout
        #expect(metrics.contains("iotca_est_refused_total{outcome=\"failed\"} 10") && metrics.contains("iotca_est_refused_total{outcome=\"rate_limited\"}"),
                "\(metrics)")
        // Nothing was issued, and the token was never spent.
        #expect(try fixture.store.store.certificates(CertificateFilter(thing: "guess-1")).isEmpty)
        // Labels are template names: an unknown one, or a path, is 404 without a server path.
        for label in ["nope", "..%2F..%2Fetc%2Fpasswd"] {
            let (cacerts, csrattrs) = (try fixture.est("\(label)/cacerts", out: "l"), try fixture.est("\(label)/csrattrs", out: "l"))
            #expect(cacerts == 404 && csrattrs == 404, "\(label): \(cacerts) \(csrattrs)")
        }
    }

    @Test func ocspNeverSaysGoodUnderARevokedCA() throws {
        let store = try TemporaryStore()
        let authority = CertificateAuthority(keyring: store.keyring)
        _ = try authority.createCA("site-2", parent: "root")
        let device = try store.issue(IssueRequest(thing: "meter-1", authority: "site-2"))
        let server = try ServiceProcess(store: store.storeURL, environment: store.processEnvironment, folder: store.folder.url)
        defer { _ = server.stop() }
        func ask() throws -> String {
            let bundle = device.folder
            let result = try OpenSSLCLI.run(["ocsp", "-issuer", bundle.appendingPathComponent("chain.pem").path,
                                             "-cert", bundle.appendingPathComponent("cert.pem").path, "-url", server.publicURL + "/ocsp",
                                             "-CAfile", bundle.appendingPathComponent("root.pem").path, "-no_nonce",
                                             "-verify_other", bundle.appendingPathComponent("chain.pem").path, "-resp_text"])
            return result.stdout + result.stderr
        }
        #expect(try ask().contains(": good"))
        // Disabled: the CA certifies no new OCSP signer; it answers itself, still good.
        _ = try authority.setStatus(.disabled, of: "site-2")
        let signersBefore = try store.store.certificates({ var filter = CertificateFilter(authority: "site-2"); filter.includeAuthorities = true; return filter }()).filter { $0.template == "ocsp-signer" }.count
        let disabled = try ask()
        #expect(disabled.contains(": good") && disabled.contains("Response verify OK"), "\(disabled)")
        let site = try store.store.authority(named: "site-2")
        _ = try authority.revoke(.serial(SerialNumber(bytes: Array(try site.certificate().serialNumber.bytes)), authority: "root"), reason: .keyCompromise)
        let revoked = try ask()
        #expect(revoked.contains("Cert Status: revoked") && revoked.contains("cACompromise") && !revoked.contains(": good"), "\(revoked)")
        let signersAfter = try store.store.certificates({ var filter = CertificateFilter(authority: "site-2"); filter.includeAuthorities = true; return filter }()).filter { $0.template == "ocsp-signer" }.count
        #expect(signersAfter == signersBefore)
        // A CA disabled before any request: no signer is ever certified; the CA signs itself.
        _ = try authority.createCA("site-3", parent: "root")
        let other = try store.issue(IssueRequest(thing: "meter-3", authority: "site-3"))
        _ = try authority.setStatus(.disabled, of: "site-3")
        let itself = try OpenSSLCLI.run(["ocsp", "-issuer", other.folder.appendingPathComponent("chain.pem").path,
                                          "-cert", other.folder.appendingPathComponent("cert.pem").path, "-url", server.publicURL + "/ocsp",
                                          "-CAfile", other.folder.appendingPathComponent("root.pem").path, "-no_nonce",
                                          "-verify_other", other.folder.appendingPathComponent("chain.pem").path, "-resp_text"])
        #expect((itself.stdout + itself.stderr).contains("Cert Status: good") && itself.stderr.contains("Response verify OK"), "\(itself)")
        let site3Signers = try store.store.certificates({ var filter = CertificateFilter(authority: "site-3"); filter.includeAuthorities = true; return filter }())
            .filter { $0.template == "ocsp-signer" }
        #expect(site3Signers.isEmpty)
    }
}

/// A TLS server that answers every POST with a fixed body (a hostile or broken iotca API), for
/// the client's side of the tests.
enum LyingServer {
    static let script = #"""
import http.server, ssl, sys, json
port, bundle, body = int(sys.argv[1]), sys.argv[2], open(sys.argv[3], "rb").read()
class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", "0")))
        answer = body if self.path == "/v1/certificates" else json.dumps({"serial": "00", "superseded": []}).encode()
        self.send_response(201 if self.path == "/v1/certificates" else 200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)
    def log_message(self, *args): pass
server = http.server.HTTPServer(("127.0.0.1", port), Handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
with open(bundle + "/fullchain.pem", "w") as out:
    out.write(open(bundle + "/cert.pem").read() + open(bundle + "/chain.pem").read())
context.load_cert_chain(bundle + "/fullchain.pem", bundle + "/key.pem")
server.socket = context.wrap_socket(server.socket, server_side=True)
server.serve_forever()
"""#
}
