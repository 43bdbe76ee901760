import Foundation
import IoTCAKit
import Testing
import TestSupport

/// schemathesis (PyPI, installed by `.ci/run`) runs `docs/openapi.yaml` against a real
/// `iotca serve`, as a station, on the public listener, and as an operator: generated and
/// mutated requests, bounded in count, checked for no 5xx and no answer the document does not
/// describe. Then the store: what the station got is inside its grant (its refused requests
/// wrote nothing), the audit chain is whole, and doctor finds nothing.
@Suite(.serialized) struct SchemathesisTests {
    static let hooks = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/openapi")
    static let checks = ["not_a_server_error", "status_code_conformance", "content_type_conformance", "response_schema_conformance",
                         "response_headers_conformance", "negative_data_rejection", "unsupported_method"].joined(separator: ",")

    /// One bounded run; the command's output when it found something.
    static func run(_ fixture: ServiceTests.Fixture, url: String, tag: String, client: String?, phases: String) throws -> ProcessResult {
        var arguments = ["run", OpenAPITests.document.path, "--url", url, "--include-tag", tag, "--checks", checks,
                         "--max-examples", "25", "--phases", phases, "-w", "1", "--seed", "1", "--generation-database", "none",
                         "--request-timeout", "20", "--continue-on-failure", "--no-color"]
        if let client {
            let folder = fixture.clients.appendingPathComponent(client)
            arguments += ["--request-cert", folder.appendingPathComponent("cert.pem").path, "--request-cert-key", folder.appendingPathComponent("key.pem").path,
                          "--tls-verify", folder.appendingPathComponent("root.pem").path]
        }
        var environment = ProcessInfo.processInfo.environment
        environment["PYTHONPATH"] = hooks.path
        environment["SCHEMATHESIS_HOOKS"] = "st_hooks"
        return try ProcessRunner.run("st", arguments, environment: environment, directory: fixture.store.folder.url, timeout: 900)
    }

    static var everything: CertificateFilter {
        var filter = CertificateFilter()
        filter.includeAuthorities = true
        return filter
    }

    @Test func theDocumentHoldsAgainstTheRealServerAndRefusedRequestsWriteNothing() throws {
        let fixture = try ServiceTests.Fixture(publicURL: "http://127.0.0.1:18080")
        let before = Set(try fixture.store.store.certificates(Self.everything).map(\.serial))

        let station = try Self.run(fixture, url: fixture.server.apiURL, tag: "api", client: "line1", phases: "examples,coverage,fuzzing,stateful")
        #expect(station.succeeded, "station run:\n\(station.stdout.suffix(6_000))\(station.stderr.suffix(2_000))")
        // Whatever the station got is inside its grant: a device certificate for line1-*, from issuing.
        // (Besides the CA's own CMP and OCSP signers, certified when a responder first answers.)
        let new = try fixture.store.store.certificates(Self.everything)
            .filter { !before.contains($0.serial) && !["cmp-signer", "ocsp-signer"].contains($0.template) }
        for entry in new {
            #expect((entry.thing ?? "").hasPrefix("line1-") && entry.template == "device" && entry.authority == "issuing",
                    "the station got \(entry.thing ?? "?") \(entry.template) from \(entry.authority)")
        }

        let open = try Self.run(fixture, url: fixture.server.publicURL, tag: "public", client: nil, phases: "examples,coverage,fuzzing")
        #expect(open.succeeded, "public run:\n\(open.stdout.suffix(6_000))\(open.stderr.suffix(2_000))")
        // The operator last: its stateful phase revokes what it lists, itself included.
        let operatorRun = try Self.run(fixture, url: fixture.server.apiURL, tag: "api", client: "alice", phases: "examples,coverage,fuzzing,stateful")
        #expect(operatorRun.succeeded, "operator run:\n\(operatorRun.stdout.suffix(6_000))\(operatorRun.stderr.suffix(2_000))")

        #expect(fixture.server.stop() == 0)
        #expect(AuditEvent.firstBrokenLink(try fixture.store.store.events()) == nil)
        let findings = try Doctor(store: fixture.store.store, keyring: fixture.store.keyring).examine().findings.filter { $0.check != "kdf" }
        #expect(findings.isEmpty, "\(findings)")
    }
}
