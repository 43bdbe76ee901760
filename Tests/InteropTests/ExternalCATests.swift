import Foundation
import IoTCAKit
import Testing
import TestSupport

/// An issuing CA whose root lives elsewhere: the CSR goes to an "offline root" run by the
/// openssl CLI, and the certificate comes back through `ca import`.
@Suite struct ExternalCATests {
    /// A self-signed root made and operated by openssl alone.
    func offlineRoot(in folder: TemporaryFolder) throws -> (certificate: URL, key: URL) {
        let certificate = folder.appending("offline-root.pem"), key = folder.appending("offline-root.key")
        let made = try OpenSSLCLI.run([
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384", "-nodes",
            "-keyout", key.path, "-out", certificate.path, "-days", "3650", "-subj", "/O=Offline/CN=Offline Root",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        ])
        try #require(made.succeeded, "\(made.stderr)")
        return (certificate, key)
    }

    func sign(_ csr: URL, with root: (certificate: URL, key: URL), in folder: TemporaryFolder, days: Int = 1825) throws -> URL {
        let extensions = folder.appending("ca.ext")
        try Data("""
            basicConstraints=critical,CA:TRUE,pathlen:0
            keyUsage=critical,keyCertSign,cRLSign
            subjectKeyIdentifier=hash
            authorityKeyIdentifier=keyid

            """.utf8).write(to: extensions)
        let certificate = folder.appending("edge.pem")
        let signed = try OpenSSLCLI.run([
            "x509", "-req", "-in", csr.path, "-CA", root.certificate.path, "-CAkey", root.key.path,
            "-CAcreateserial", "-days", "\(days)", "-extfile", extensions.path, "-out", certificate.path,
        ], directory: folder.url)
        try #require(signed.succeeded, "\(signed.stderr)")
        return certificate
    }

    @Test func externalCAIsCreatedSignedByOpenSSLImportedAndIssues() throws {
        let fixture = try TemporaryStore()
        let manager = AuthorityManager(keyring: fixture.keyring)
        let (pending, csrPEM) = try manager.createExternal("edge", keyType: .ecP256)
        #expect(pending.status == .pending)
        #expect(throws: AuthorityError.pending("edge")) { try fixture.issue(IssueRequest(thing: "d", authority: "edge")) }

        let csr = fixture.folder.appending("edge.csr")
        try Data(csrPEM.utf8).write(to: csr)
        #expect(try OpenSSLCLI.run(["req", "-verify", "-noout", "-in", csr.path]).succeeded)
        let root = try offlineRoot(in: fixture.folder)
        let signed = try sign(csr, with: root, in: fixture.folder)

        // Without the chain, the offline root is unknown to this store.
        #expect(throws: AuthorityError.self) {
            try manager.importCertificate("edge", certificate: Array(try Data(contentsOf: signed)), chain: nil)
        }
        let imported = try manager.importCertificate(
            "edge", certificate: Array(try Data(contentsOf: signed)), chain: Array(try Data(contentsOf: root.certificate)))
        #expect(imported.status == .active)
        #expect(throws: AuthorityError.notPending("edge")) {
            try manager.importCertificate("edge", certificate: Array(try Data(contentsOf: signed)), chain: nil)
        }

        let provisioner = Provisioner(keyring: Keyring(store: fixture.store, passphrase: .fixed(Passphrase(TemporaryStore.passphrase))))
        let result = try provisioner.issue(IssueRequest(thing: "device-9", authority: "edge"), bundleParent: fixture.bundles)
        let verify = try OpenSSLCLI.verifyBundle(result.folder)
        #expect(verify.succeeded, "\(verify.stderr)")
        #expect(try String(contentsOf: result.folder.appendingPathComponent("root.pem"), encoding: .utf8)
            == String(contentsOf: root.certificate, encoding: .utf8))
    }

    @Test func importRefusesACertificateForAnotherKeyOrWithoutTheRoot() throws {
        let fixture = try TemporaryStore(encrypted: false)
        let manager = AuthorityManager(keyring: fixture.keyring)
        _ = try manager.createExternal("edge")
        let root = try offlineRoot(in: fixture.folder)
        // A CA certificate, but for the offline root's own key: not the key edge holds.
        #expect(throws: AuthorityError.self) {
            try manager.importCertificate("edge", certificate: Array(try Data(contentsOf: root.certificate)), chain: nil)
        }
        let (_, csrPEM) = try manager.createExternal("edge-2")
        let csr = fixture.folder.appending("edge-2.csr")
        try Data(csrPEM.utf8).write(to: csr)
        let signed = try sign(csr, with: root, in: fixture.folder)
        // A chain that does not reach the signer.
        let wrongChain = Array(try Data(contentsOf: fixture.store.layout.certificateFile(for: "root")))
        #expect(throws: AuthorityError.self) {
            try manager.importCertificate("edge-2", certificate: Array(try Data(contentsOf: signed)), chain: wrongChain)
        }
        #expect(try fixture.store.authority(named: "edge-2").status == .pending)
    }
}
