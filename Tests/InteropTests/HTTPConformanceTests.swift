import Foundation
import IoTCAKit
import Testing
import TestSupport

/// What the HTTP specifications and the OpenAPI document say the service answers, on a real
/// `iotca serve`; each case was found by schemathesis or by trying the document's promises.
@Suite struct HTTPConformanceTests {
    typealias Fixture = ServiceTests.Fixture

    /// The status and headers (lower-cased names) of a request with `method`.
    static func head(_ fixture: Fixture, _ method: String, _ url: String, as client: String?, body: String? = nil) throws -> (status: Int, headers: String) {
        var arguments = ["-sS", "-o", "/dev/null", "-D", "-", "-X", method, "--cacert", fixture.clients.appendingPathComponent("alice/root.pem").path]
        if let client {
            arguments += ["--cert", fixture.clients.appendingPathComponent("\(client)/cert.pem").path,
                          "--key", fixture.clients.appendingPathComponent("\(client)/key.pem").path]
        }
        if let body { arguments += ["-H", "content-type: application/json", "--data-binary", body] }
        let result = try ProcessRunner.run("curl", arguments + [url], timeout: 30)
        let status = Int(result.stdout.split(separator: " ").dropFirst().first ?? "") ?? 0
        return (status, result.stdout.lowercased())
    }

    @Test func aKnownPathWithAnotherMethodIs405WithAllowAndAnUnknownPathIs404() throws {
        let fixture = try Fixture()
        let api = fixture.server.apiURL, open = fixture.server.publicURL
        for (method, url, allow) in [("DELETE", api + "/v1/whoami", "get"), ("PUT", api + "/v1/certificates", "get, post"),
                                     ("GET", api + "/v1/crls", "post"), ("PUT", open + "/ocsp", "post"), ("DELETE", open + "/root.crl", "get"),
                                     ("POST", api + "/.well-known/est/cacerts", "get")] {
            let answer = try Self.head(fixture, method, url, as: "alice")
            #expect(answer.status == 405 && answer.headers.contains("allow: \(allow)\r\n"), "\(method) \(url): \(answer.headers)")
            #expect(answer.headers.contains("application/problem+json"))
        }
        #expect(try Self.head(fixture, "GET", api + "/v2/whoami", as: "alice").status == 404)
        #expect(try Self.head(fixture, "GET", open + "/a/b/c", as: nil).status == 404)
    }

    @Test func optionalBodiesMayBeEmptyAndBadTimesAre400() throws {
        let fixture = try Fixture()
        #expect(try fixture.call("/v1/crls", as: "alice", extra: ["-X", "POST"]).status == 200)
        let issued = try fixture.call("/v1/certificates", as: "line1", json: #"{"thing":"line1-0001"}"#)
        #expect(issued.status == 201)
        #expect(try fixture.call("/v1/things/line1-0001/revoke", as: "alice", extra: ["-X", "POST"]).status == 200)
        let since = try fixture.call("/v1/audit?since=yesterday", as: "alice")
        let sinceProblem = try fixture.problem(since.body)
        #expect(since.status == 400 && sinceProblem == "bad-request", "\(since.body)")
        // RFC 3339 5.6: lower case is fine. The answer is the streamed report: the certificates
        // issued since then (the two clients', line1-0001's), the log, the verdict last.
        let audit = try fixture.call("/v1/audit?since=2026-01-01t00:00:00z", as: "alice")
        #expect(audit.status == 200)
        let report = try JSONSerialization.jsonObject(with: Data(audit.body.utf8)) as? [String: Any]
        let things = (report?["certificates"] as? [[String: Any]])?.compactMap { $0["thing"] as? String } ?? []
        #expect(things.contains("line1-0001") && report?["hash_chain_intact"] as? Bool == true, "\(audit.body.prefix(300))")
        #expect((report?["events"] as? [Any])?.isEmpty == false && report?["checkpoint_problems"] as? [String] == [])
        let invalidity = try fixture.call("/v1/things/line1-0001/revoke", as: "alice", json: #"{"invalidity_date":"yesterday"}"#)
        #expect(invalidity.status == 400, "\(invalidity.body)")
    }

    @Test func aSerialRouteFindsSerialsOnlyAndARevokedCertificateIsNeverConfirmed() throws {
        let fixture = try Fixture()
        // A thing named like hex is not a serial.
        #expect(try fixture.call("/v1/certificates", as: "alice", json: #"{"thing":"beef"}"#).status == 201)
        #expect(try fixture.call("/v1/certificates/beef", as: "alice").status == 404)
        #expect(try fixture.call("/v1/things/beef", as: "alice").status == 200)
        // Issue, renew for delivery, the operator revokes the new one, the station confirms it
        // with supersede: 409, and the thing keeps its first certificate.
        let first = try fixture.object(try fixture.call("/v1/certificates", as: "line1", json: #"{"thing":"line1-0300"}"#).body)
        let firstSerial = try #require((first["manifest"] as? [String: Any])?["serial"] as? String)
        let renewed = try fixture.object(try fixture.call("/v1/certificates", as: "line1",
                                                          json: #"{"thing":"line1-0300","renew":true,"supersede":true,"delivery_target":"json:-"}"#).body)
        let newSerial = try #require((renewed["manifest"] as? [String: Any])?["serial"] as? String)
        #expect(try fixture.call("/v1/certificates/\(newSerial)/revoke", as: "alice", json: "{}").status == 200)
        let confirmed = try fixture.call("/v1/certificates/\(newSerial)/delivered", as: "line1", json: #"{"thing":"line1-0300","supersede":true}"#)
        let confirmedProblem = try fixture.problem(confirmed.body)
        #expect(confirmed.status == 409 && confirmedProblem == "conflict", "\(confirmed.body)")
        let active = try fixture.store.store.certificates(CertificateFilter(thing: "line1-0300", status: .active))
        #expect(active.map(\.serial.hex) == [firstSerial])
    }
}
