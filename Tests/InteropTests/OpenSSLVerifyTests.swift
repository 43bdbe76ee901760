import Foundation
import IoTCAKit
import Testing
import TestSupport

/// Everything iotca issues, judged by the openssl command line.
@Suite struct OpenSSLVerifyTests {
    @Test(arguments: [
        (KeyAlgorithm.ecP256, "ecdsa-with-SHA256"), (.ecP384, "ecdsa-with-SHA384"),
        (.ed25519, "ED25519"), (.rsa2048, "sha256WithRSAEncryption"),
    ])
    func deviceBundleVerifiesStrictlyForEveryCAKeyType(keyType: KeyAlgorithm, signatureName: String) throws {
        let fixture = try TemporaryStore(keyType: keyType)
        let result = try fixture.issue(IssueRequest(thing: "device-42"))
        let verify = try OpenSSLCLI.verifyBundle(result.folder)
        #expect(verify.succeeded, "\(verify.stdout)\(verify.stderr)")
        #expect(verify.stdout.contains("cert.pem: OK"))

        let text = try OpenSSLCLI.text(ofCertificate: result.folder.appendingPathComponent("cert.pem").path)
        #expect(text.contains("Signature Algorithm: \(signatureName)"))
        #expect(text.contains("Version: 3 (0x2)"))
        #expect(text.contains("X509v3 Basic Constraints: critical\n                CA:FALSE"))
        #expect(text.contains("X509v3 Key Usage: critical\n                Digital Signature"))
        #expect(text.contains("TLS Web Client Authentication"))
        #expect(text.contains("X509v3 Subject Key Identifier"))
        #expect(text.contains("X509v3 Authority Key Identifier"))
        #expect(text.contains("URI:https://iotca.invalid/things/device-42"))

        // The CA certificates themselves pass strict verification too.
        let issuing = fixture.store.layout.certificateFile(for: "issuing").path
        let root = fixture.store.layout.certificateFile(for: "root").path
        #expect(try OpenSSLCLI.run(["verify", "-x509_strict", "-CAfile", root, issuing]).succeeded)
        #expect(try OpenSSLCLI.text(ofCertificate: issuing).contains("CA:TRUE, pathlen:0"))
    }

    @Test func serialIsTwentyRandomBytesAndKeyMatchesCertificate() throws {
        let fixture = try TemporaryStore(encrypted: false)
        let result = try fixture.issue(IssueRequest(thing: "d"))
        let cert = result.folder.appendingPathComponent("cert.pem").path
        let serial = try OpenSSLCLI.run(["x509", "-noout", "-serial", "-in", cert]).stdout
        #expect(serial.trimmingCharacters(in: .whitespacesAndNewlines) == "serial=\(result.entry.serial.hex.uppercased())")
        #expect(result.entry.serial.hex.count == 40)
        let certKey = try OpenSSLCLI.run(["x509", "-noout", "-pubkey", "-in", cert]).stdout
        let privateKey = try OpenSSLCLI.run(["pkey", "-pubout", "-in", result.folder.appendingPathComponent("key.pem").path]).stdout
        #expect(!certKey.isEmpty && certKey == privateKey)
        let fingerprint = try OpenSSLCLI.run(["x509", "-noout", "-fingerprint", "-sha256", "-in", cert]).stdout
        #expect(fingerprint.lowercased().replacingOccurrences(of: ":", with: "").contains(result.entry.fingerprintSHA256))
    }

    @Test func caKeysOpenWithOpenSSLPkeyAndThePassphraseOnly() throws {
        let fixture = try TemporaryStore()
        for name in ["root", "issuing"] {
            let key = fixture.store.layout.url(try fixture.store.authority(named: name).keyFile).path
            let pem = try String(contentsOfFile: key, encoding: .utf8)
            #expect(pem.hasPrefix("-----BEGIN ENCRYPTED PRIVATE KEY-----"))
            let opened = try OpenSSLCLI.run(["pkey", "-in", key, "-passin", "pass:\(TemporaryStore.passphrase)", "-noout"])
            #expect(opened.succeeded, "\(opened.stderr)")
            #expect(try !OpenSSLCLI.run(["pkey", "-in", key, "-passin", "pass:wrong", "-noout"]).succeeded)
            // The key in the file is the one the CA certificate carries.
            let fromKey = try OpenSSLCLI.run(["pkey", "-in", key, "-passin", "pass:\(TemporaryStore.passphrase)", "-pubout"]).stdout
            let fromCert = try OpenSSLCLI.run(["x509", "-noout", "-pubkey", "-in", fixture.store.layout.certificateFile(for: name).path]).stdout
            #expect(fromKey == fromCert)
        }
    }

    @Test func serverCertificateVerifiesForServerAuthAndItsAddress() throws {
        let fixture = try TemporaryStore(encrypted: false)
        let result = try fixture.issue(IssueRequest(thing: "broker", template: "server", subjectAltNames: [try SubjectAltName("ip:127.0.0.1")]))
        let verify = try OpenSSLCLI.verifyBundle(result.folder, purpose: "sslserver", extra: ["-verify_ip", "127.0.0.1", "-verify_hostname", "broker"])
        #expect(verify.succeeded, "\(verify.stderr)")
        // A device certificate is no server certificate.
        let device = try fixture.issue(IssueRequest(thing: "device-1"))
        #expect(try !OpenSSLCLI.verifyBundle(device.folder, purpose: "sslserver").succeeded)
    }

    @Test func userTemplateSetsKeyTypeValidityUsagesAndSubject() throws {
        let fixture = try TemporaryStore(encrypted: false)
        let template = """
            {
              "name": "gateway",
              "keyType": "rsa-2048",
              "validity": "90d",
              "subject": {"commonName": "{{thing}}", "organization": "{{org}}", "organizationalUnit": "{{attr.site}}", "country": "FR"},
              "subjectAltNames": ["dns:{{thing}}.{{attr.site}}.example.com"],
              "keyUsage": ["digitalSignature", "keyEncipherment"],
              "extendedKeyUsage": ["clientAuth", "serverAuth"],
              "ca": false
            }
            """
        try Data(template.utf8).write(to: fixture.store.layout.templates.appendingPathComponent("gateway.json"))
        let result = try fixture.issue(IssueRequest(thing: "gw-1", template: "gateway", attributes: ["site": "lyon"]))
        #expect(try OpenSSLCLI.verifyBundle(result.folder, purpose: "sslserver").succeeded)
        #expect(try OpenSSLCLI.verifyBundle(result.folder, purpose: "sslclient").succeeded)
        let text = try OpenSSLCLI.text(ofCertificate: result.folder.appendingPathComponent("cert.pem").path)
        #expect(text.contains("Subject: C = FR, O = Test Fleet, OU = lyon, CN = gw-1"))
        #expect(text.contains("DNS:gw-1.lyon.example.com"))
        #expect(text.contains("Public-Key: (2048 bit)"))
        #expect(text.contains("Digital Signature, Key Encipherment"))
        #expect(result.entry.notAfter.timeIntervalSince(result.entry.notBefore) <= 90 * 86_400 + IssuancePolicy.clockSkewAllowance)
    }
}
