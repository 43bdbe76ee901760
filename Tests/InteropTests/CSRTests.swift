import Foundation
import IoTCAKit
import Testing
import TestSupport

/// Issuance from requests made by `openssl req`: only the key is taken from the CSR.
@Suite struct CSRTests {
    func makeRequest(in folder: TemporaryFolder, key: [String] = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
                     der: Bool = false) throws -> (csr: URL, key: URL) {
        let csr = folder.appending(der ? "req.der" : "req.csr"), keyFile = folder.appending("device.key")
        let made = try OpenSSLCLI.run(["req", "-new"] + key + [
            "-nodes", "-keyout", keyFile.path, "-out", csr.path, "-subj", "/CN=evil/O=Mallory",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "subjectAltName=DNS:evil.example.com",
            "-addext", "extendedKeyUsage=serverAuth,codeSigning",
        ] + (der ? ["-outform", "DER"] : []))
        try #require(made.succeeded, "\(made.stderr)")
        return (csr, keyFile)
    }

    @Test(arguments: [false, true])
    func csrKeyIsCertifiedButTheTemplateDecidesEverythingElse(der: Bool) throws {
        let fixture = try TemporaryStore(encrypted: false)
        let (csr, key) = try makeRequest(in: fixture.folder, der: der)
        let result = try fixture.issue(IssueRequest(thing: "device-7", csr: Array(try Data(contentsOf: csr))))
        #expect(!FileManager.default.fileExists(atPath: result.folder.appendingPathComponent("key.pem").path))
        #expect(result.bundle.manifest.keySource == "csr")
        let verify = try OpenSSLCLI.verifyBundle(result.folder)
        #expect(verify.succeeded, "\(verify.stderr)")
        let cert = result.folder.appendingPathComponent("cert.pem").path
        let text = try OpenSSLCLI.text(ofCertificate: cert)
        #expect(text.contains("Subject: O = Test Fleet, CN = device-7"))
        #expect(text.contains("CA:FALSE"))
        #expect(!text.contains("evil") && !text.contains("Code Signing") && !text.contains("Server Authentication"))
        let certKey = try OpenSSLCLI.run(["x509", "-noout", "-pubkey", "-in", cert]).stdout
        let deviceKey = try OpenSSLCLI.run(["pkey", "-pubout", "-in", key.path]).stdout
        #expect(certKey == deviceKey)
    }

    @Test func csrWithABrokenSignatureIsRefused() throws {
        let fixture = try TemporaryStore(encrypted: false)
        let (csr, _) = try makeRequest(in: fixture.folder, der: true)
        var bytes = Array(try Data(contentsOf: csr))
        // The signature BIT STRING ends the DER: flipping its last byte breaks the signature only.
        bytes[bytes.count - 1] ^= 0x01
        #expect(throws: PolicyError.csrSignatureInvalid) { try fixture.issue(IssueRequest(thing: "d", csr: bytes)) }
        #expect(try fixture.store.certificates(CertificateFilter()).isEmpty)
    }

    @Test func weakKeysGarbageAndOversizedRequestsAreRefused() throws {
        let fixture = try TemporaryStore(encrypted: false)
        let (weak, _) = try makeRequest(in: fixture.folder, key: ["-newkey", "rsa:1024"])
        #expect(throws: PolicyError.self) { try fixture.issue(IssueRequest(thing: "d", csr: Array(try Data(contentsOf: weak)))) }
        let truncated = Array(try Data(contentsOf: weak)).prefix(200)
        #expect(throws: PolicyError.self) { try fixture.issue(IssueRequest(thing: "d", csr: Array(truncated))) }
        #expect(throws: PolicyError.self) { try fixture.issue(IssueRequest(thing: "d", csr: Array("garbage".utf8))) }
        #expect(throws: PolicyError.self) { try fixture.issue(IssueRequest(thing: "d", csr: [UInt8](repeating: 0x30, count: CSRCheck.maximumSize + 1))) }
        let certificateInstead = Array(try Data(contentsOf: fixture.store.layout.certificateFile(for: "root")))
        #expect(throws: PolicyError.self) { try fixture.issue(IssueRequest(thing: "d", csr: certificateInstead)) }
        #expect(try fixture.store.certificates(CertificateFilter()).isEmpty)
    }

    @Test func templateRestrictsCSRKeyTypes() throws {
        let fixture = try TemporaryStore(encrypted: false)
        var template = try TemplateCatalog.builtIn.template("device")
        template.name = "p256-only"
        template.allowedKeyTypes = [.ecP256]
        try JSONEncoder().encode(template).write(to: fixture.store.layout.templates.appendingPathComponent("p256-only.json"))
        let (csr, _) = try makeRequest(in: fixture.folder, key: ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384"])
        #expect(throws: PolicyError.keyTypeNotAllowed("ec-p384", template: "p256-only")) {
            try fixture.issue(IssueRequest(thing: "d", template: "p256-only", csr: Array(try Data(contentsOf: csr))))
        }
    }
}
