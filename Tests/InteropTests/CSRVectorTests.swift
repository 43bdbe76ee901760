import Foundation
@testable import IoTCAKit
import Testing
import TestSupport

/// pyca/cryptography's CSR vectors (Apache-2.0, see Fixtures/cryptography-csr-vectors/README.md):
/// each with the verdict iotca must give and the words its message must hold. A request iotca
/// accepts must also pass `openssl req -verify`; broken hashes (MD4, SHA-1) are refused by name
/// even where OpenSSL would accept the signature.
@Suite struct CSRVectorTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/cryptography-csr-vectors")

    /// nil: accepted. Otherwise a fragment of the refusal.
    static let expected: [String: String?] = [
        "bad-version.pem": "does not verify with its own public key",
        "basic_constraints.pem": "sha1WithRSAEncryption (SHA-1)",
        "challenge-invalid.der": "does not verify with its own public key",
        "challenge-multi-valued.der": "does not verify with its own public key",
        "challenge-unstructured.pem": nil,
        "challenge.pem": nil,
        "ec_sha256.der": nil,
        "ec_sha256.pem": nil,
        "freeipa-bad-critical.pem": nil,
        "invalid_signature.pem": "RSA 1024 bits (at least 2048 required)",
        "long-form-attribute.pem": "does not verify with its own public key",
        "rsa_md4.der": "md4WithRSAEncryption (MD4)",
        "rsa_md4.pem": "md4WithRSAEncryption (MD4)",
        "rsa_sha1.der": "sha1WithRSAEncryption (SHA-1)",
        "rsa_sha1.pem": "sha1WithRSAEncryption (SHA-1)",
        "rsa_sha256.der": nil,
        "rsa_sha256.pem": nil,
        "san_rsa_sha1.der": "sha1WithRSAEncryption (SHA-1)",
        "san_rsa_sha1.pem": "sha1WithRSAEncryption (SHA-1)",
        "two_basic_constraints.pem": "sha1WithRSAEncryption (SHA-1)",
        "unsupported_extension.pem": "sha1WithRSAEncryption (SHA-1)",
        "unsupported_extension_critical.pem": "sha1WithRSAEncryption (SHA-1)",
    ]

    @Test func everyVectorIsCovered() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.folder.path)
            .filter { $0.hasSuffix(".pem") || $0.hasSuffix(".der") }
        #expect(Set(files) == Set(Self.expected.keys))
        #expect(files.count == 22)
    }

    @Test(arguments: expected.keys.sorted())
    func vectorGetsItsVerdict(name: String) throws {
        let url = Self.folder.appendingPathComponent(name)
        let bytes = Array(try Data(contentsOf: url))
        let verdict = Self.expected[name] ?? nil
        let openssl = try OpenSSLCLI.run(["req", "-verify", "-noout", "-inform", name.hasSuffix(".der") ? "DER" : "PEM", "-in", url.path])
        do {
            _ = try CSRCheck.publicKey(fromRequest: bytes)
            #expect(verdict == nil, "\(name) was accepted")
            #expect(openssl.succeeded, "\(name) is accepted by iotca but not by openssl req -verify")
        } catch {
            let message = "\(error)"
            #expect(verdict.map { message.contains($0) } == true, "\(name): \(message)")
        }
    }

    @Test func theBinaryNamesTheBrokenHash() throws {
        let folder = TemporaryFolder()
        var environment = ProcessInfo.processInfo.environment
        environment["IOTCA_STORE"] = folder.path("store")
        environment["IOTCA_PASSPHRASE"] = nil
        #expect(try ProcessRunner.run(ProcessRunner.iotcaExecutable, ["init", "--insecure-no-passphrase"], environment: environment).succeeded)
        let refused = try ProcessRunner.run(ProcessRunner.iotcaExecutable, [
            "issue", "d-1", "--csr", Self.folder.appendingPathComponent("rsa_md4.pem").path, "--out", folder.path("b"),
        ], environment: environment)
        #expect(refused.status == CLIStatus.rejected.rawValue)
        #expect(refused.stderr == "iotca: error: invalid CSR: signed with md4WithRSAEncryption (MD4), a broken hash: sign the request with SHA-256 or stronger\n")
        #expect(try Store.open(folder.appending("store")).certificates(CertificateFilter()).isEmpty)
    }
}
