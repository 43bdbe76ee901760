import Foundation
@testable import IoTCAKit
import Testing
import TestSupport

/// DigiCert's pkilint, the industry's certificate and CRL linter, on every profile iotca makes:
/// zero ERROR or FATAL findings. `.ci/run` installs it from PyPI.
@Suite struct LintTests {
    /// The ERROR and FATAL findings pkilint reports for a file (empty when clean).
    static func lint(_ tool: String, _ arguments: [String]) throws -> String {
        let result = try ProcessRunner.run(tool, ["lint", "-s", "ERROR"] + arguments)
        // A linter that did not run must not pass as a clean file.
        #expect(result.stderr.isEmpty, "\(tool) failed: \(result.stderr)")
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func lintCertificate(_ path: String) throws -> String { try lint("lint_pkix_cert", [path]) }
    static func lintCRL(_ path: String) throws -> String { try lint("lint_crl", ["-t", "CRL", "-p", "PKIX", path]) }

    @Test(arguments: [KeyAlgorithm.ecP256, .ecP384, .rsa2048, .ed25519])
    func everyCertificateProfileAndCRLIsLintClean(keyType: KeyAlgorithm) throws {
        let fixture = try TemporaryStore(keyType: keyType, encrypted: false, publicURL: "http://pki.example.com/iotca")
        let manager = AuthorityManager(keyring: fixture.keyring)
        try manager.createSubordinate("site-2", parent: "root")
        let device = try fixture.issue(IssueRequest(thing: "device-42"))
        let server = try fixture.issue(IssueRequest(thing: "mqtt.example.com", template: "server"))
        let csrPath = fixture.folder.path("device.csr")
        #expect(try OpenSSLCLI.run(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                                    "-keyout", fixture.folder.path("device.key"), "-out", csrPath, "-subj", "/CN=x"]).succeeded)
        let withCSR = try fixture.issue(IssueRequest(thing: "sensor-7", csr: Array(try Data(contentsOf: URL(fileURLWithPath: csrPath)))))
        let verification = try manager.verificationCertificate(ca: "issuing", registrationCode: "abc123")
        let service = RevocationService(keyring: fixture.keyring)
        _ = try service.revoke(.serial(device.entry.serial, authority: nil), reason: .keyCompromise,
                               invalidityDate: fixture.clock.now.addingTimeInterval(-3_600))
        _ = try service.revoke(.serial(withCSR.entry.serial, authority: nil), reason: .unspecified)
        _ = try service.publishAll()

        let issuing = try fixture.store.authority(named: "issuing")
        let cmpSigner = try CMPSigner.issue(for: issuing, with: try fixture.keyring.signer(for: issuing, toIssue: false), chain: [],
                                            store: fixture.store, now: fixture.clock.now)
        var certificates: [(String, [UInt8])] = [
            ("device", device.entry.der), ("server", server.entry.der), ("device from CSR", withCSR.entry.der),
            ("AWS verification", verification.der), ("CMP signer", cmpSigner.certificateDER),
        ]
        for authority in try fixture.store.authorities() {
            certificates.append(("CA \(authority.name)", try #require(authority.certificateDER)))
        }
        for (name, der) in certificates {
            let path = fixture.folder.path("lint.pem")
            try Data(IssuedCertificate.pem(der).utf8).write(to: URL(fileURLWithPath: path))
            let findings = try Self.lintCertificate(path)
            #expect(findings.isEmpty, "\(keyType) \(name): \(findings)")
        }
        for authority in ["root", "issuing", "site-2"] {
            let files = service.crlFiles(of: authority)
            let findings = try Self.lintCRL(files.der.path)
            #expect(findings.isEmpty, "\(keyType) CRL of \(authority): \(findings)")
            #expect(try OpenSSLCLI.run(["crl", "-inform", "DER", "-noout", "-in", files.der.path]).succeeded)
        }
    }

    /// pkilint calls single-label DNS names ("localhost", "broker") invalid; RFC 5280 takes
    /// dNSName in RFC 1034's preferred syntax, which allows them, and test brokers on loopback
    /// need them. Tolerated by name: that finding, for those names, and nothing else.
    @Test func singleLabelServerNamesDrawOnlyTheKnownDomainNameFinding() throws {
        let fixture = try TemporaryStore(encrypted: false)
        let server = try fixture.issue(IssueRequest(thing: "broker", template: "server",
                                                    subjectAltNames: [try SubjectAltName("dns:localhost"), try SubjectAltName("ip:127.0.0.1")]))
        let findings = try Self.lintCertificate(server.folder.appendingPathComponent("cert.pem").path)
        let errors = findings.split(separator: "\n").filter { $0.contains("(ERROR)") || $0.contains("(FATAL)") }
        #expect(errors.count == 2, "\(findings)")
        #expect(errors.allSatisfy { $0.contains("pkix.invalid_domain_name_syntax") && ($0.contains("\"broker\"") || $0.contains("\"localhost\"")) },
                "\(findings)")
    }
}
