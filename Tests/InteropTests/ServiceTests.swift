import Foundation
import IoTCAKit
import Testing
import TestSupport

/// `iotca serve` as a real process on 127.0.0.1, called by curl with real client certificates,
/// its answers checked by openssl; stopped by PID.
@Suite(.serialized) struct ServiceTests {
    /// A store with a station (may issue device certificates to `line1-*`), an operator, and a
    /// running server.
    final class Fixture: @unchecked Sendable {
        let store: TemporaryStore
        let authority: CertificateAuthority
        let clients: URL
        let server: ServiceProcess
        var environment: [String: String] { store.processEnvironment }

        init(publicURL: String? = nil, configuration: String? = nil) throws {
            store = try TemporaryStore(publicURL: publicURL)
            authority = CertificateAuthority(keyring: store.keyring)
            clients = store.folder.appending("clients")
            _ = try authority.createClient("line1", role: .station, grants: [try ClientGrant(parsing: "device:line1-*")], into: clients)
            _ = try authority.createClient("alice", role: .operator, grants: [], into: clients)
            var arguments: [String] = []
            if let configuration {
                let file = store.folder.appending("serve.json")
                try Data(configuration.utf8).write(to: file)
                arguments = ["--config", file.path]
            }
            server = try ServiceProcess(store: store.storeURL, environment: store.processEnvironment, arguments: arguments, folder: store.folder.url)
        }

        /// curl as `client` (a folder with cert.pem and key.pem, or nil for none); the status and body.
        func call(_ path: String, as client: String?, json: String? = nil, extra: [String] = []) throws -> (status: Int, body: String) {
            var arguments = ["-sS", "--cacert", clients.appendingPathComponent("alice/root.pem").path, "-w", "\n%{http_code}"]
            if let client {
                let folder = client.hasPrefix("/") ? URL(fileURLWithPath: client) : clients.appendingPathComponent(client)
                arguments += ["--cert", folder.appendingPathComponent("cert.pem").path, "--key", folder.appendingPathComponent("key.pem").path]
            }
            if let json { arguments += ["-H", "content-type: application/json", "--data-binary", json] }
            let result = try ProcessRunner.run("curl", arguments + extra + [server.apiURL + path], timeout: 30)
            #expect(result.succeeded, "curl: \(result.stderr)")
            var lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
            let status = Int(lines.removeLast()) ?? 0
            return (status, lines.joined(separator: "\n"))
        }

        func object(_ body: String) throws -> [String: Any] {
            try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
        }

        /// The problem type's last part, e.g. `forbidden`.
        func problem(_ body: String) throws -> String {
            String((try object(body)["type"] as? String ?? "").split(separator: ":").last ?? "")
        }

        func certificateCount() throws -> Int { try store.store.certificates(CertificateFilter()).count }
    }

    @Test func aStationIssuesWithinItsGrantsAndAnOperatorRevokes() throws {
        let fixture = try Fixture()
        // A generated key: the bundle comes back as `--format json` has it.
        let issued = try fixture.call("/v1/certificates", as: "line1", json: #"{"thing":"line1-0001"}"#)
        #expect(issued.status == 201, "\(issued.body)")
        let bundle = try fixture.object(issued.body)
        let folder = fixture.store.folder.appending("line1-0001")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for (key, file) in [("certificate_pem", "cert.pem"), ("chain_pem", "chain.pem"), ("root_pem", "root.pem"), ("private_key_pem", "key.pem")] {
            try Data(try #require(bundle[key] as? String).utf8).write(to: folder.appendingPathComponent(file))
        }
        let verified = try OpenSSLCLI.verifyBundle(folder)
        #expect(verified.succeeded, "\(verified.stdout)\(verified.stderr)")
        let keyMatches = try OpenSSLCLI.run(["x509", "-in", folder.path + "/cert.pem", "-noout", "-pubkey"]).stdout
            == (try OpenSSLCLI.run(["pkey", "-in", folder.path + "/key.pem", "-pubout"]).stdout)
        #expect(keyMatches)
        let serial = try #require((bundle["manifest"] as? [String: Any])?["serial"] as? String)

        // A CSR made by openssl: the key never leaves the device.
        let key = fixture.store.folder.appending("device.key"), csr = fixture.store.folder.appending("device.csr")
        #expect(try OpenSSLCLI.run(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key.path,
                                    "-out", csr.path, "-subj", "/CN=line1-0002"]).succeeded)
        let csrJSON = String(data: try JSONSerialization.data(withJSONObject: ["thing": "line1-0002", "csr": try String(contentsOf: csr, encoding: .utf8)]),
                             encoding: .utf8) ?? ""
        let signed = try fixture.call("/v1/certificates", as: "line1", json: csrJSON)
        #expect(signed.status == 201, "\(signed.body)")
        #expect(try fixture.object(signed.body)["private_key_pem"] == nil)

        // A CLI on the same store at the same time sees both, and who issued them.
        let listed = try ProcessRunner.run(ProcessRunner.iotcaExecutable, ["list", "--store", fixture.store.storeURL.path, "--json"],
                                           environment: fixture.environment)
        #expect(listed.stdout.contains("line1-0001") && listed.stdout.contains("line1-0002"))
        let issueEvents = try fixture.store.store.events().filter { $0.action == "certificate.issue" && $0.subject.hasPrefix("line1-") }
        #expect(issueEvents.count == 2 && issueEvents.allSatisfy { $0.details.contains("\"client\":\"station:line1:") })

        // Renewal within the grant, superseding the old certificate.
        let renewed = try fixture.call("/v1/certificates", as: "line1", json: #"{"thing":"line1-0001","renew":true,"supersede":true}"#)
        #expect(renewed.status == 201, "\(renewed.body)")
        #expect(try fixture.object(renewed.body)["superseded"] as? [String] == [serial])

        // Reading: by serial, by thing; a station sees only what its grants cover.
        #expect(try fixture.call("/v1/certificates/\(serial)", as: "line1").status == 200)
        let thing = try fixture.call("/v1/things/line1-0001", as: "line1")
        let thingCertificates = try fixture.object(thing.body)["certificates"] as? [Any]
        #expect(thing.status == 200 && thingCertificates?.count == 2)
        let page = try fixture.call("/v1/certificates?limit=2", as: "alice")
        let next = try fixture.object(page.body)["next"] as? String
        #expect(page.status == 200 && next != nil)

        // The operator revokes the CSR one; the public listener serves a CRL that lists it.
        let csrSerial = try #require((try fixture.object(signed.body)["manifest"] as? [String: Any])?["serial"] as? String)
        let revoked = try fixture.call("/v1/certificates/\(csrSerial)/revoke", as: "alice", json: #"{"reason":"key-compromise"}"#)
        #expect(revoked.status == 200, "\(revoked.body)")
        let crlFile = fixture.store.folder.appending("issuing.crl")
        let download = try ProcessRunner.run("curl", ["-sS", "-f", "-o", crlFile.path, fixture.server.publicURL + "/issuing.crl"])
        #expect(download.succeeded, "\(download.stderr)")
        let crl = try OpenSSLCLI.run(["crl", "-inform", "DER", "-in", crlFile.path, "-noout", "-text"])
        #expect(crl.succeeded && crl.stdout.contains(csrSerial.uppercased()) && crl.stdout.contains("Key Compromise"))

        // Pins and CAs for any client.
        #expect(try fixture.call("/v1/pins", as: "line1").status == 200)
        #expect(try fixture.call("/v1/cas", as: "line1").status == 200)
        // SIGTERM: stop accepting, finish, exit 0.
        #expect(fixture.server.stop() == 0)
    }

    @Test func refusalsNameTheirReasonAndWriteNothing() throws {
        let fixture = try Fixture()
        let device = try fixture.store.issue(IssueRequest(thing: "sensor-1"))
        let revokedStation = try fixture.authority.createClient("line9", role: .station, grants: [try ClientGrant(parsing: "device")],
                                                               into: fixture.clients)
        _ = try fixture.authority.revoke(.serial(revokedStation.entry.serial, authority: nil))
        let foreign = fixture.store.folder.appending("foreign")
        try FileManager.default.createDirectory(at: foreign, withIntermediateDirectories: true)
        #expect(try OpenSSLCLI.run(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
                                    "-subj", "/CN=line1", "-keyout", foreign.path + "/key.pem", "-out", foreign.path + "/cert.pem"]).succeeded)
        let before = try fixture.certificateCount()
        let issue = #"{"thing":"line1-0001"}"#
        let cases: [(String, String?, String?, Int, String)] = [
            ("/v1/certificates", nil, issue, 401, "unauthenticated"),
            ("/v1/certificates", foreign.path, issue, 401, "unauthenticated"),
            ("/v1/certificates", "line9", issue, 401, "unauthenticated"),
            ("/v1/certificates", fixture.store.bundles.appendingPathComponent("sensor-1").path, issue, 403, "forbidden"),
            ("/v1/certificates", "line1", #"{"thing":"line2-0001"}"#, 403, "forbidden"),
            ("/v1/certificates", "line1", #"{"thing":"line1-0001","template":"server"}"#, 403, "forbidden"),
            ("/v1/certificates/\(device.entry.serial.hex)/revoke", "line1", "{}", 403, "forbidden"),
            ("/v1/certificates", "alice", #"{"thing": "#, 400, "bad-request"),
            ("/v1/certificates", "alice", #"{"thing":"bad/name"}"#, 422, "policy"),
            ("/v1/certificates", "alice", #"{"thing":"sensor-1"}"#, 409, "conflict"),
            ("/v1/certificates", "alice", "{\"thing\":\"" + String(repeating: "a", count: 70_000) + "\"}", 413, "too-large"),
            ("/v1/certificates/00ff/revoke", "alice", "{}", 404, "not-found"),
            ("/v1/nothing-here", "alice", nil, 404, "no-route"),
            ("/v1/audit", "line1", nil, 403, "forbidden"),
        ]
        for (path, client, json, status, problem) in cases {
            let answer = try fixture.call(path, as: client, json: json)
            #expect(answer.status == status, "\(path) as \(client ?? "nobody"): \(answer.body)")
            #expect(try fixture.problem(answer.body) == problem, "\(path) as \(client ?? "nobody"): \(answer.body)")
        }
        // A body that is not JSON by its media type.
        let form = try fixture.call("/v1/certificates", as: "alice", extra: ["--data", "thing=x"])
        #expect(form.status == 415)
        #expect(try fixture.certificateCount() == before)
        #expect(try fixture.store.store.certificates(serial: device.entry.serial).first?.status == .active)
        #expect(fixture.server.stop() == 0)
    }

    /// The environment of a CLI working through the server as `client` (no local store at all).
    func remote(_ fixture: Fixture, as client: String) -> [String: String] {
        let folder = fixture.clients.appendingPathComponent(client)
        return fixture.environment.merging([
            "IOTCA_SERVER": fixture.server.apiURL, "IOTCA_CLIENT_CERT": folder.path + "/cert.pem",
            "IOTCA_CLIENT_KEY": folder.path + "/key.pem", "IOTCA_SERVER_CA": folder.path + "/root.pem",
            "IOTCA_STORE": fixture.store.folder.path("no-store-here"), "IOTCA_PASSPHRASE": "",
        ]) { $1 }
    }

    func iotca(_ arguments: [String], _ environment: [String: String], in folder: URL) throws -> ProcessResult {
        try ProcessRunner.run(ProcessRunner.iotcaExecutable, arguments, environment: environment, directory: folder)
    }

    @Test func theCLIWorksThroughTheServerWithTheSameBundlesAndExitCodes() throws {
        let fixture = try Fixture()
        let station = remote(fixture, as: "line1"), operatorEnvironment = remote(fixture, as: "alice")
        let work = fixture.store.folder.url
        let issued = try iotca(["issue", "line1-0001", "--out", "remote"], station, in: work)
        #expect(issued.succeeded, "\(issued.stderr)")
        let bundle = work.appendingPathComponent("remote/line1-0001")
        #expect(try FileManager.default.contentsOfDirectory(atPath: bundle.path).sorted() == ["cert.pem", "chain.pem", "key.pem", "manifest.json", "root.pem"])
        let verified = try OpenSSLCLI.verifyBundle(bundle)
        #expect(verified.succeeded, "\(verified.stderr)")
        // Confirmed by the client once on its disk: written, as a local issue would be.
        let serial = try #require(try fixture.store.store.certificates(CertificateFilter(thing: "line1-0001")).first)
        #expect(serial.delivery == .written)
        // The same refusals and exit codes as locally.
        #expect(try iotca(["issue", "line1-0001", "--out", "remote"], station, in: work).status == 7)
        #expect(try iotca(["issue", "line2-0001", "--out", "remote"], station, in: work).status == CLIStatus.forbidden.rawValue)
        #expect(try iotca(["revoke", serial.serial.hex], station, in: work).status == CLIStatus.forbidden.rawValue)
        #expect(try iotca(["show", "nobody-0001"], operatorEnvironment, in: work).status == 8)
        // Renewal superseding the old one, only after the new bundle is on disk.
        let renewed = try iotca(["issue", "line1-0001", "--out", "remote", "--renew", "--supersede"], station, in: work)
        #expect(renewed.succeeded && renewed.stdout.contains("Revoked the previous certificate \(serial.serial.hex) (superseded)"))
        let listed = try iotca(["list", "--json"], station, in: work)
        #expect(listed.succeeded && listed.stdout.contains("line1-0001"))
        let local = try iotca(["show", serial.serial.hex, "--pem", "--store", fixture.store.storeURL.path], fixture.environment, in: work)
        #expect(try iotca(["show", serial.serial.hex, "--pem"], station, in: work).stdout == local.stdout)
        let pins = try iotca(["pins", "--format", "curl"], station, in: work)
        let localPins = try iotca(["pins", "--format", "curl", "--store", fixture.store.storeURL.path], fixture.environment, in: work)
        #expect(pins.succeeded && pins.stdout == localPins.stdout)
        let revoked = try iotca(["revoke", "--thing", "line1-0001", "--reason", "key-compromise"], operatorEnvironment, in: work)
        #expect(revoked.succeeded, "\(revoked.stderr)")
        #expect(try fixture.store.store.certificates(CertificateFilter(thing: "line1-0001", status: .active)).isEmpty)

        // A batch, its re-run, and a run into another folder: nothing issued twice, nothing revoked.
        let rows = (1...40).map { String(format: "line1-%04d", 100 + $0) }
        try Data((["thing"] + rows + ["line2-0001"]).joined(separator: "\n").utf8).write(to: work.appendingPathComponent("f.csv"))
        let first = try iotca(["batch", "f.csv", "--out", "batch", "--json"], station, in: work)
        #expect(first.status == 5)  // line2-0001 is outside the grant
        #expect(first.stdout.contains("\"issued\" : 40") && first.stdout.contains("\"failed\" : 1"), "\(first.stdout)")
        let again = try iotca(["batch", "f.csv", "--out", "batch", "--json"], station, in: work)
        #expect(again.stdout.contains("\"skipped\" : 40"), "\(again.stdout)")
        let elsewhere = try iotca(["batch", "f.csv", "--out", "other", "--json"], station, in: work)
        #expect(elsewhere.stdout.contains("\"skipped\" : 40"), "\(elsewhere.stdout)")
        let active = try fixture.store.store.certificates(CertificateFilter(status: .active)).filter { rows.contains($0.thing ?? "") }
        #expect(active.count == 40 && active.allSatisfy { $0.delivery == .written })
        #expect(try fixture.store.store.certificates(CertificateFilter(status: .revoked)).filter { rows.contains($0.thing ?? "") }.isEmpty)
        for thing in rows.prefix(3) { #expect(try OpenSSLCLI.verifyBundle(work.appendingPathComponent("batch/\(thing)")).succeeded) }
        #expect(fixture.server.stop() == 0)
    }

    @Test func aRemoteBatchKilledBetweenAnswerAndDiskRecoversWithoutRevokingWhatWasDelivered() throws {
        let fixture = try Fixture()
        let station = remote(fixture, as: "line1")
        let work = fixture.store.folder.url
        let out = work.appendingPathComponent("batch")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let target = DeliveryTarget.make(format: .dir, out: out)
        // What a client killed at two points leaves: line1-0001 recorded, its answer lost;
        // line1-0002 recorded and written to disk, never confirmed.
        for thing in ["line1-0001", "line1-0002"] {
            let answer = try fixture.call("/v1/certificates", as: "line1", json: #"{"thing":"\#(thing)","delivery_target":"\#(target)","recover":true}"#)
            #expect(answer.status == 201, "\(answer.body)")
            if thing == "line1-0002" {
                let bundle = try fixture.object(answer.body)
                try FileManager.default.createDirectory(at: out.appendingPathComponent(thing), withIntermediateDirectories: true)
                try Data(try #require(bundle["certificate_pem"] as? String).utf8).write(to: out.appendingPathComponent("\(thing)/cert.pem"))
            }
        }
        let recorded = try fixture.store.store.certificates(CertificateFilter(status: .active)).filter { $0.thing?.hasPrefix("line1-") == true }
        #expect(recorded.count == 2 && recorded.allSatisfy { $0.delivery == .recorded })
        // Another output first: it must neither recover nor revoke them.
        try Data("thing\nline1-0001\nline1-0002\nline1-0003\n".utf8).write(to: work.appendingPathComponent("f.csv"))
        let elsewhere = try iotca(["batch", "f.csv", "--out", "other", "--json"], station, in: work)
        #expect(elsewhere.stdout.contains("\"skipped\" : 2") && elsewhere.stdout.contains("\"issued\" : 1"), "\(elsewhere.stdout)")
        // The re-run into the same output: 0001 issued again (its unwritten certificate
        // superseded), 0002 kept and confirmed, 0003 already done elsewhere.
        let rerun = try iotca(["batch", "f.csv", "--out", "batch", "--json"], station, in: work)
        #expect(rerun.stdout.contains("\"recovered\" : 1") && rerun.stdout.contains("\"skipped\" : 2"), "\(rerun.stdout)")
        let first = try fixture.store.store.certificates(CertificateFilter(thing: "line1-0001"))
        #expect(first.count == 2 && first[0].status == .revoked && first[0].revocationReason == "superseded" && first[1].status == .active)
        let second = try fixture.store.store.certificates(CertificateFilter(thing: "line1-0002"))
        #expect(second.count == 1 && second[0].status == .active && second[0].delivery == .written)
        #expect(try OpenSSLCLI.verifyBundle(out.appendingPathComponent("line1-0001")).succeeded)
        #expect(fixture.server.stop() == 0)
    }

    @Test func aServerKilledMidBatchLosesNothingOnceRestarted() throws {
        let fixture = try Fixture()
        let work = fixture.store.folder.url
        let rows = (1...300).map { String(format: "line1-%04d", $0) }
        try Data((["thing"] + rows).joined(separator: "\n").utf8).write(to: work.appendingPathComponent("f.csv"))
        let out = work.appendingPathComponent("batch")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let environment = remote(fixture, as: "line1")
        let batch = try Spawn.start(ProcessRunner.iotcaExecutable, ["batch", work.path + "/f.csv", "--out", out.path, "--jobs", "8"],
                                    environment: environment, stdout: work.appendingPathComponent("batch.out"),
                                    stderr: work.appendingPathComponent("batch.err"))
        // Kill -9 once a few dozen bundles are on disk (woken by the folder's events; 60 s at most).
        let started = FileWatch.wait(in: out, timeout: 60) {
            ((try? FileManager.default.contentsOfDirectory(atPath: out.path)) ?? []).filter { !$0.hasPrefix(".") }.count >= 30
        }
        #expect(started)
        #expect(fixture.server.stop(signal: SIGKILL) == 128 + SIGKILL)
        // The client stops at once: the server is unavailable (exit 6), a re-run finishes.
        #expect(Spawn.stop(batch, signal: 0) == 6)
        #expect(try String(contentsOf: work.appendingPathComponent("batch.err"), encoding: .utf8).contains("cannot reach the iotca server"))
        // Restart on the same store and run the batch again: every thing ends with one active,
        // delivered certificate whose bundle is on disk.
        let restarted = try ServiceProcess(store: fixture.store.storeURL, environment: fixture.environment, folder: work)
        var again = environment
        again["IOTCA_SERVER"] = restarted.apiURL
        let rerun = try iotca(["batch", "f.csv", "--out", "batch", "--json"], again, in: work)
        #expect(rerun.succeeded, "\(rerun.stdout)\(rerun.stderr)")
        let active = try fixture.store.store.certificates(CertificateFilter(status: .active)).filter { rows.contains($0.thing ?? "") }
        #expect(active.count == 300 && Set(active.compactMap(\.thing)).count == 300)
        #expect(active.allSatisfy { $0.delivery == .written })
        for entry in active.prefix(300) {
            let text = try String(contentsOf: out.appendingPathComponent("\(entry.thing ?? "")/cert.pem"), encoding: .utf8)
            #expect(text == entry.pem)
        }
        // (The fixture's keys use the fast test KDF, which doctor rightly reports; nothing else.)
        let findings = try fixture.authority.doctor(bundles: out).findings.filter { $0.check != "kdf" }
        #expect(findings.isEmpty, "\(findings)")
        #expect(restarted.stop() == 0)
    }

    @Test func aClientOverItsRateLimitIsToldWhenToComeBack() throws {
        // A bucket of two that refills once in 100 s: the third request of a client is refused.
        let fixture = try Fixture(configuration: #"{"limits":{"rate_limit":{"per_second":0.01,"burst":2}}}"#)
        #expect(try fixture.call("/v1/whoami", as: "line1").status == 200)
        #expect(try fixture.call("/v1/whoami", as: "line1").status == 200)
        let before = try fixture.certificateCount()
        let headers = fixture.store.folder.appending("limited.headers")
        let limited = try fixture.call("/v1/certificates", as: "line1", json: #"{"thing":"line1-0001"}"#, extra: ["-D", headers.path])
        let limitedProblem = try fixture.problem(limited.body)
        #expect(limited.status == 429 && limitedProblem == "rate-limited")
        let retryAfter = try String(contentsOf: headers, encoding: .utf8).lowercased().split(separator: "\r\n")
            .first { $0.hasPrefix("retry-after: ") }.flatMap { Int($0.dropFirst("retry-after: ".count)) }
        #expect((retryAfter ?? 0) >= 1 && (retryAfter ?? 0) <= 100)
        #expect(try fixture.certificateCount() == before)  // nothing issued
        // Buckets are per client: the operator is not held back by the station.
        #expect(try fixture.call("/v1/whoami", as: "alice").status == 200)
        #expect(fixture.server.stop() == 0)
    }

    @Test func publicFilesCarryCacheValidatorsUntilTheNextUpdate() throws {
        let fixture = try Fixture()
        _ = try fixture.authority.publishCRLs(of: ["issuing"])
        let headers = fixture.store.folder.appending("headers")
        let body = fixture.store.folder.appending("issuing.crl")
        #expect(try ProcessRunner.run("curl", ["-sS", "-f", "-D", headers.path, "-o", body.path, fixture.server.publicURL + "/issuing.crl"]).succeeded)
        let text = try String(contentsOf: headers, encoding: .utf8).lowercased()
        #expect(text.contains("content-type: application/pkix-crl"))
        let etag = try #require(text.split(separator: "\r\n").first { $0.hasPrefix("etag: ") }).dropFirst("etag: ".count)
        let maxAge = try #require(text.split(separator: "\r\n").first { $0.hasPrefix("cache-control: ") }?.split(separator: "=").last.flatMap { Int($0) })
        let record = try #require(try fixture.store.store.latestCRL(of: "issuing"))
        #expect(maxAge > 0 && Double(maxAge) <= record.nextUpdate.timeIntervalSinceNow + 1)
        #expect(try OpenSSLCLI.run(["crl", "-inform", "DER", "-in", body.path, "-noout"]).succeeded)
        let again = try ProcessRunner.run("curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code}", "-H", "If-None-Match: \(etag)",
                                                   fixture.server.publicURL + "/issuing.crl"])
        #expect(again.stdout == "304")
        let certificate = try ProcessRunner.run("curl", ["-sS", "-f", "-o", fixture.store.folder.path("root.crt"), fixture.server.publicURL + "/root.crt"])
        #expect(certificate.succeeded)
        #expect(try OpenSSLCLI.run(["x509", "-inform", "DER", "-in", fixture.store.folder.path("root.crt"), "-noout"]).succeeded)
        let missing = try ProcessRunner.run("curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code}", fixture.server.publicURL + "/nobody.crl"])
        #expect(missing.stdout == "404")
        #expect(try ProcessRunner.run("curl", ["-sS", "-f", fixture.server.publicURL + "/healthz"]).stdout == "ok\n")
        let metrics = try ProcessRunner.run("curl", ["-sS", "-f", fixture.server.publicURL + "/metrics"]).stdout
        #expect(metrics.contains("iotca_http_requests_total{listener=\"public\",route=\"/{file}\",status=\"304\"} 1"))
        #expect(fixture.server.stop(signal: SIGINT) == 0)
    }
}
