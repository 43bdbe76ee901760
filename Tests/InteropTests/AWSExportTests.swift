import Foundation
@testable import IoTCAKit
import Testing
import TestSupport
import X509

/// `iotca aws export` judged by AWS's own API model (botocore's ParamValidator and the model's
/// limits, `Fixtures/aws/validate_export.py`), by `openssl` for the certificates, and against
/// hostile input: nothing written on a refusal, the same files on a re-run.
@Suite struct AWSExportTests {
    static let validator = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/aws/validate_export.py").path
    static let role = "arn:aws:iam::123456789012:role/JITPRole"

    static func validate(_ folder: URL) throws -> String {
        let result = try ProcessRunner.run("/usr/bin/python3", [validator, folder.path])
        #expect(result.succeeded && result.stdout.hasSuffix("ok\n"), "\(result.stdout)\(result.stderr)")
        return result.stdout
    }

    static func files(_ folder: URL) throws -> [String: Data] {
        var files: [String: Data] = [:]
        guard let walker = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil) else { return files }
        for case let url as URL in walker where !url.hasDirectoryPath {
            files[String(url.path.dropFirst(folder.path.count + 1))] = try Data(contentsOf: url)
        }
        return files
    }

    @Test func theExportIsWhatAWSAcceptsAndJITPParametersAreInEveryCertificate() throws {
        let fixture = try TemporaryStore()
        let front = CertificateAuthority(keyring: fixture.keyring)
        for thing in ["dev-1", "dev-2", "dev:3_x"] { try fixture.issue(IssueRequest(thing: thing)) }
        var export = AWSExport()
        export.registration = .registrationCode("a1b2c3d4e5f6")
        export.roleARN = Self.role
        export.policyName = "DevicePolicy"
        export.selection = .all
        let out = fixture.folder.appending("aws")
        let plan = try front.exportToAWS(export, to: out)
        #expect(plan.commands.first == "aws iot register-ca-certificate --cli-input-json file://register-ca-certificate.json")
        let report = try Self.validate(out)
        #expect(report.contains("jitp-parameters AWS::IoT::Certificate::CommonName AWS::IoT::Certificate::Id AWS::IoT::Certificate::Organization"))

        // Each declared subject parameter is in each exported certificate, as openssl reads it.
        let registration = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("register-ca-certificate.json"))) as? [String: Any]
        for thing in ["dev-1", "dev-2", "dev:3_x"] {
            let input = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("register-certificate/\(thing).json"))) as? [String: Any]
            let pem = fixture.folder.path("\(thing).pem")
            try Data(((input?["certificatePem"] as? String) ?? "").utf8).write(to: URL(fileURLWithPath: pem))
            let subject = try OpenSSLCLI.run(["x509", "-in", pem, "-noout", "-subject", "-nameopt", "RFC2253"]).stdout
            #expect(subject.contains("CN=\(thing)") && subject.contains("O=Test Fleet"), "\(subject)")
            let ca = fixture.folder.path("ca.pem")
            try Data(((registration?["caCertificate"] as? String) ?? "").utf8).write(to: URL(fileURLWithPath: ca))
            #expect(try OpenSSLCLI.run(["verify", "-x509_strict", "-partial_chain", "-CAfile", ca, pem]).succeeded)
        }
        // The verification certificate: CN = the code, signed by the CA being registered.
        let verification = fixture.folder.path("verification.pem")
        try Data(((registration?["verificationCertificate"] as? String) ?? "").utf8).write(to: URL(fileURLWithPath: verification))
        #expect(try OpenSSLCLI.run(["x509", "-in", verification, "-noout", "-subject"]).stdout.contains("CN = a1b2c3d4e5f6"))
        let ca = fixture.folder.path("ca.pem")
        #expect(try OpenSSLCLI.run(["verify", "-partial_chain", "-CAfile", ca, verification]).succeeded)
        // A re-run writes the same files (the verification certificate is reused, not remade).
        let first = try Self.files(out)
        _ = try front.exportToAWS(export, to: out)
        #expect(try Self.files(out) == first)
        #expect(first.keys.sorted() == ["README.txt", "bulk/provisioning-template.json", "bulk/things.ndjson", "register-ca-certificate.json",
                                         "register-certificate/dev-1.json", "register-certificate/dev-2.json", "register-certificate/dev:3_x.json"])
    }

    @Test func sniOnlyAndRevocationsSinceTheLastExport() throws {
        let fixture = try TemporaryStore()
        let front = CertificateAuthority(keyring: fixture.keyring)
        let one = try fixture.issue(IssueRequest(thing: "dev-1"))
        try fixture.issue(IssueRequest(thing: "dev-2"))
        // dev-2 renewed without superseding: two active certificates; AWS gets the newest only.
        let newest = try fixture.issue(IssueRequest(thing: "dev-2", renew: true))
        _ = try RevocationService(keyring: fixture.keyring).revoke(.serial(one.entry.serial, authority: nil), reason: .keyCompromise)
        var export = AWSExport()
        export.registration = .sniOnly
        export.revocations = true
        export.selection = .things(["dev-2"])
        let out = fixture.folder.appending("aws")
        _ = try front.exportToAWS(export, to: out)
        _ = try Self.validate(out)
        let registration = try String(contentsOf: out.appendingPathComponent("register-ca-certificate.json"), encoding: .utf8)
        #expect(registration.contains("SNI_ONLY") && !registration.contains("verificationCertificate"))
        let registered = try String(contentsOf: out.appendingPathComponent("register-certificate/dev-2.json"), encoding: .utf8)
        #expect(registered.contains(newest.entry.pem.replacingOccurrences(of: "\n", with: "\\n")), "not the newest certificate")
        let lines = try String(contentsOf: out.appendingPathComponent("bulk/things.ndjson"), encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 1)
        let revoked = try FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent("revocations").path)
        #expect(revoked == ["\(one.entry.fingerprintSHA256.replacingOccurrences(of: ":", with: "").lowercased()).json"])
        // The next export holds only what was revoked since.
        fixture.clock.advance(by: 60)
        let two = try fixture.store.certificates(CertificateFilter(thing: "dev-2", status: .active))[0]
        _ = try RevocationService(keyring: fixture.keyring).revoke(.serial(two.serial, authority: nil), reason: .superseded)
        var next = AWSExport()
        next.revocations = true
        let later = fixture.folder.appending("aws-later")
        _ = try front.exportToAWS(next, to: later)
        _ = try Self.validate(later)
        #expect(try FileManager.default.contentsOfDirectory(atPath: later.appendingPathComponent("revocations").path).count == 1)
    }

    @Test func hostileOrOversizedInputIsRefusedAndNothingIsWritten() throws {
        let fixture = try TemporaryStore()
        try fixture.issue(IssueRequest(thing: "dev.1"))
        try fixture.issue(IssueRequest(thing: "gw-1.example.com", template: "server"))
        let out = fixture.folder.appending("aws")
        let environment = fixture.processEnvironment
        let base = ["aws", "export", "--store", fixture.storeArgument, "--out", out.path]
        let refused: [[String]] = [
            ["--registration-code", "abc", "--role-arn", "arn:aws:iam::12:role/x"],       // not a role ARN
            ["--registration-code", "abc", "--policy-name", "bad policy"],
            ["--registration-code", "abc\";rm -rf /"],
            ["--thing", "../../etc/passwd"],
            ["--thing", "dev.1"],                                                          // '.' is no AWS thing name
            ["--thing", "nobody"],
            ["--registration-code", "abc", "--role-arn", Self.role, "--template", "nosuch"],
            ["--registration-code", "abc", "--sni-only"],
            [],
        ]
        for arguments in refused {
            let result = try ProcessRunner.run(ProcessRunner.iotcaExecutable, base + arguments, environment: environment)
            #expect(!result.succeeded && (result.stderr.contains("iotca: error:") || result.stderr.hasPrefix("Error:")), "\(arguments): \(result.stdout)\(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: out.path), "\(arguments) wrote files")
        }
        // A template JITP cannot use: no common name to name the thing.
        var template = try CertificateAuthority(keyring: fixture.keyring).template(named: "device")
        template.subject.commonName = nil
        #expect(throws: AWSExportError.self) { try AWSProvisioningTemplate.parameters(of: template) }
        #expect(throws: AWSExportError.self) { try AWSLimits.checkTemplateBody(String(repeating: "x", count: 10_241), name: "body") }
        #expect(throws: AWSExportError.self) { try AWSLimits.checkCertificatePEM(String(repeating: "x", count: 65_537), name: "pem") }
        #expect(throws: AWSExportError.self) { try AWSLimits.checkThingName(String(repeating: "a", count: 129)) }
    }
}
