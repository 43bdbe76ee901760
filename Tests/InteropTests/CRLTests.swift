import Foundation
import IoTCAKit
import Testing
import TestSupport

/// CRLs judged by `openssl crl` and `openssl verify -crl_check`.
@Suite struct CRLTests {
    @Test(arguments: [KeyAlgorithm.ecP256, .ecP384, .ed25519, .rsa2048])
    func revokedDeviceIsRefusedAndGoodOneAcceptedByOpenSSL(keyType: KeyAlgorithm) throws {
        let fixture = try TemporaryStore(keyType: keyType, encrypted: false)
        let good = try fixture.issue(IssueRequest(thing: "good"))
        let bad = try fixture.issue(IssueRequest(thing: "bad"))
        let quiet = try fixture.issue(IssueRequest(thing: "quiet"))
        let service = RevocationService(keyring: fixture.keyring)
        _ = try service.revoke(.thing("bad"), reason: .keyCompromise, invalidityDate: try Timestamp.parse("2026-11-20T08:00:00Z", option: "t"))
        _ = try service.revoke(.serial(quiet.entry.serial, authority: "issuing"))  // unspecified: no reasonCode
        _ = try service.publishAll()

        let publicFolder = fixture.store.layout.publicFolder
        let crl = publicFolder.appendingPathComponent("issuing.crl").path
        let text = try OpenSSLCLI.run(["crl", "-inform", "DER", "-in", crl, "-noout", "-text"])
        #expect(text.succeeded, "\(text.stderr)")
        #expect(text.stdout.contains("Version 2 (0x1)"))
        #expect(text.stdout.contains("X509v3 Authority Key Identifier"))
        #expect(text.stdout.contains("X509v3 CRL Number: \n                3"))  // revoke, revoke, publishAll
        #expect(text.stdout.contains("Serial Number: \(bad.entry.serial.hex.uppercased())"))
        #expect(text.stdout.contains("Key Compromise"))
        #expect(text.stdout.contains("Invalidity Date: \n                Nov 20 08:00:00 2026 GMT"))
        #expect(text.stdout.components(separatedBy: "CRL Reason Code").count == 2)  // only bad's entry has one
        let issuer = try OpenSSLCLI.run(["crl", "-in", publicFolder.appendingPathComponent("issuing.crl.pem").path, "-noout", "-issuer"]).stdout
        let subject = try OpenSSLCLI.run(["x509", "-in", fixture.store.layout.certificateFile(for: "issuing").path, "-noout", "-subject"]).stdout
        #expect(issuer.replacingOccurrences(of: "issuer=", with: "") == subject.replacingOccurrences(of: "subject=", with: ""))
        // The signature verifies with the CA's key.
        let signature = try OpenSSLCLI.run(["crl", "-inform", "DER", "-in", crl, "-noout", "-CAfile", fixture.store.layout.certificateFile(for: "issuing").path])
        #expect(signature.stderr.contains("verify OK") || signature.stdout.contains("verify OK"), "\(signature.stderr)")

        let cas = fixture.folder.appending("cas.pem")
        try Data((try String(contentsOf: fixture.store.layout.certificateFile(for: "root"), encoding: .utf8)
            + String(contentsOf: fixture.store.layout.certificateFile(for: "issuing"), encoding: .utf8)).utf8).write(to: cas)
        func verify(_ result: IssueResult, _ flags: [String]) throws -> ProcessResult {
            try OpenSSLCLI.run(["verify", "-x509_strict"] + flags + ["-CAfile", cas.path, result.folder.appendingPathComponent("cert.pem").path])
        }
        let issuingCRL = ["-crl_check", "-CRLfile", publicFolder.appendingPathComponent("issuing.crl.pem").path]
        #expect(try verify(good, issuingCRL).succeeded)
        let refused = try verify(bad, issuingCRL)
        #expect(!refused.succeeded)
        #expect((refused.stdout + refused.stderr).contains("certificate revoked"))
        let all = ["-crl_check_all", "-CRLfile", publicFolder.appendingPathComponent("issuing.crl.pem").path,
                   "-CRLfile", publicFolder.appendingPathComponent("root.crl.pem").path]
        #expect(try verify(good, all).succeeded)
        #expect(try !verify(bad, all).succeeded)
    }

    @Test func certificatesCarryTheConfiguredURLs() throws {
        let folder = TemporaryFolder()
        var options = StoreInitializer.Options(passphrase: nil)
        options.publicURL = "http://pki.example.com/fleet/"
        options.crlValidity = try ValidityPeriod("2d")
        _ = try StoreInitializer.initialize(at: folder.appending("store"), options: options)
        let store = try Store.open(folder.appending("store"))
        let keyring = Keyring(store: store, passphrase: .fixed(nil))
        let result = try Provisioner(keyring: keyring).issue(IssueRequest(thing: "d"), bundleParent: folder.appending("bundles"))
        let text = try OpenSSLCLI.text(ofCertificate: result.folder.appendingPathComponent("cert.pem").path)
        #expect(text.contains("URI:http://pki.example.com/fleet/issuing.crl"))
        #expect(text.contains("CA Issuers - URI:http://pki.example.com/fleet/issuing.crt"))
        #expect(text.contains("OCSP - URI:http://pki.example.com/fleet/ocsp"))
        let issuing = try OpenSSLCLI.text(ofCertificate: store.layout.certificateFile(for: "issuing").path)
        #expect(issuing.contains("URI:http://pki.example.com/fleet/root.crl"))
        #expect(try OpenSSLCLI.verifyBundle(result.folder).succeeded)
        let crl = try #require(try RevocationService(keyring: keyring).publish("issuing"))
        #expect(crl.nextUpdate.timeIntervalSince(crl.thisUpdate) == 2 * 86_400)

        // Without the OCSP URL the AIA keeps the CA issuers URL; without both there is none.
        try AuthorityManager(keyring: keyring).updateSettings(of: "issuing", ocspURL: "")
        let withoutOCSP = try OpenSSLCLI.text(ofCertificate: try Provisioner(keyring: keyring).issue(
            IssueRequest(thing: "f"), bundleParent: folder.appending("bundles")).folder.appendingPathComponent("cert.pem").path)
        #expect(!withoutOCSP.contains("OCSP - URI") && withoutOCSP.contains("CA Issuers - URI"))
        try AuthorityManager(keyring: keyring).updateSettings(of: "issuing", crlURL: "", caIssuersURL: "")
        let plain = try Provisioner(keyring: keyring).issue(IssueRequest(thing: "e"), bundleParent: folder.appending("bundles"))
        let plainText = try OpenSSLCLI.text(ofCertificate: plain.folder.appendingPathComponent("cert.pem").path)
        #expect(!plainText.contains("CRL Distribution Points") && !plainText.contains("Authority Information Access"))
        #expect(throws: PolicyError.self) { try AuthorityManager(keyring: keyring).updateSettings(of: "issuing", crlURL: "file:///etc/passwd") }
    }
}
