import Foundation
import IoTCAKit
import Testing
import TestSupport

/// An issuing CA whose root lives elsewhere: the CSR goes to an "offline root" run by the
/// openssl CLI, and the certificate comes back through `ca import`.
@Suite struct ExternalCATests {
    /// A self-signed root made and operated by openssl alone.
    func offlineRoot(in folder: TemporaryFolder, constraints: String = "critical,CA:TRUE") throws -> (certificate: URL, key: URL) {
        let certificate = folder.appending("offline-root.pem"), key = folder.appending("offline-root.key")
        let made = try OpenSSLCLI.run([
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384", "-nodes",
            "-keyout", key.path, "-out", certificate.path, "-days", "3650", "-subj", "/O=Offline/CN=Offline Root",
            "-addext", "basicConstraints=\(constraints)", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        ])
        try #require(made.succeeded, "\(made.stderr)")
        return (certificate, key)
    }

    func sign(_ csr: URL, with root: (certificate: URL, key: URL), in folder: TemporaryFolder, days: Int = 1825,
              pathLength: Int? = 0) throws -> URL {
        let extensions = folder.appending("ca.ext")
        try Data("""
            basicConstraints=critical,CA:TRUE\(pathLength.map { ",pathlen:\($0)" } ?? "")
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

    @Test func externalCAIsCreatedSignedByOpenSSLImportedAndIssues() async throws {
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
        // OpenSSL dated its certificates by the real clock, after the store's clock was set: a
        // loaded machine must not make them "not yet valid".
        fixture.clock.set(Date())

        // Without the chain, the offline root is unknown to this store.
        await #expect(throws: AuthorityError.self) {
            try await manager.importCertificate("edge", certificate: Array(try Data(contentsOf: signed)), chain: nil)
        }
        let imported = try await manager.importCertificate(
            "edge", certificate: Array(try Data(contentsOf: signed)), chain: Array(try Data(contentsOf: root.certificate)))
        #expect(imported.status == .active)
        await #expect(throws: AuthorityError.notPending("edge")) {
            try await manager.importCertificate("edge", certificate: Array(try Data(contentsOf: signed)), chain: nil)
        }

        let provisioner = Provisioner(keyring: Keyring(store: fixture.store, passphrase: .fixed(Passphrase(TemporaryStore.passphrase))))
        let result = try provisioner.issue(IssueRequest(thing: "device-9", authority: "edge"), bundleParent: fixture.bundles)
        let verify = try OpenSSLCLI.verifyBundle(result.folder)
        #expect(verify.succeeded, "\(verify.stderr)")
        #expect(try String(contentsOf: result.folder.appendingPathComponent("root.pem"), encoding: .utf8)
            == String(contentsOf: root.certificate, encoding: .utf8))
    }

    @Test func importRefusesACertificateForAnotherKeyOrWithoutTheRoot() async throws {
        let fixture = try TemporaryStore(encrypted: false)
        let manager = AuthorityManager(keyring: fixture.keyring)
        _ = try manager.createExternal("edge")
        let root = try offlineRoot(in: fixture.folder)
        // A CA certificate, but for the offline root's own key: not the key edge holds.
        await #expect(throws: AuthorityError.self) {
            try await manager.importCertificate("edge", certificate: Array(try Data(contentsOf: root.certificate)), chain: nil)
        }
        let (_, csrPEM) = try manager.createExternal("edge-2")
        let csr = fixture.folder.appending("edge-2.csr")
        try Data(csrPEM.utf8).write(to: csr)
        let signed = try sign(csr, with: root, in: fixture.folder)
        // A chain that does not reach the signer.
        let wrongChain = Array(try Data(contentsOf: fixture.store.layout.certificateFile(for: "root")))
        await #expect(throws: AuthorityError.self) {
            try await manager.importCertificate("edge-2", certificate: Array(try Data(contentsOf: signed)), chain: wrongChain)
        }
        #expect(try fixture.store.authority(named: "edge-2").status == .pending)
    }

    /// The chain is judged by RFC 5280's rules (swift-certificates' Verifier), not by names and
    /// signatures alone: an intermediate that has expired breaks the chain, though every name
    /// and signature in it is right.
    @Test func importRefusesAChainWithAnExpiredIntermediate() async throws {
        let fixture = try TemporaryStore(encrypted: false)
        let manager = AuthorityManager(keyring: fixture.keyring)
        let (_, csrPEM) = try manager.createExternal("edge")
        let csr = fixture.folder.appending("edge.csr")
        try Data(csrPEM.utf8).write(to: csr)
        let root = try offlineRoot(in: fixture.folder)
        // An intermediate valid for one day, then edge under it for five years.
        let midKey = fixture.folder.appending("mid.key"), midCSR = fixture.folder.appending("mid.csr")
        #expect(try OpenSSLCLI.run(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                                    "-keyout", midKey.path, "-out", midCSR.path, "-subj", "/O=Offline/CN=Offline Mid"]).succeeded)
        // First with pathLength 0: edge could never issue a valid certificate under it.
        let narrow = fixture.folder.appending("mid-narrow.pem")
        try FileManager.default.moveItem(at: try sign(midCSR, with: root, in: fixture.folder, days: 1), to: narrow)
        let underNarrow = try sign(csr, with: (narrow, midKey), in: fixture.folder)
        fixture.clock.set(Date())  // OpenSSL's real clock, as above
        let narrowError = await #expect(throws: AuthorityError.self) {
            try await manager.importCertificate("edge", certificate: Array(try Data(contentsOf: underNarrow)),
                                                chain: Array(try Data(contentsOf: narrow)) + Array(try Data(contentsOf: root.certificate)))
        }
        guard case .importRejected("edge", let narrowReason) = narrowError else { Issue.record("\(String(describing: narrowError))"); return }
        #expect(narrowReason.contains("path length 0"), "the verifier's reason names the constraint: \(narrowReason)")
        let midPEM = fixture.folder.appending("mid.pem")
        try FileManager.default.moveItem(at: try sign(midCSR, with: root, in: fixture.folder, days: 1, pathLength: nil), to: midPEM)
        let signed = try sign(csr, with: (midPEM, midKey), in: fixture.folder)
        fixture.clock.set(Date())
        let chain = Array(try Data(contentsOf: midPEM)) + Array(try Data(contentsOf: root.certificate))
        let later = Date().addingTimeInterval(3 * 86_400)
        let error = await #expect(throws: AuthorityError.self) {
            try await manager.importCertificate("edge", certificate: Array(try Data(contentsOf: signed)), chain: chain, now: later)
        }
        guard case .importRejected("edge", _) = error else { Issue.record("\(String(describing: error))"); return }
        #expect(try fixture.store.authority(named: "edge").status == .pending)
        // The same chain today imports, and is stored issuers-first whatever order it came in.
        let reversed = Array(try Data(contentsOf: root.certificate)) + Array(try Data(contentsOf: midPEM))
        let imported = try await manager.importCertificate("edge", certificate: Array(try Data(contentsOf: signed)), chain: reversed)
        #expect(imported.status == .active)
        let device = try fixture.issue(IssueRequest(thing: "d", authority: "edge"))
        #expect(try OpenSSLCLI.verifyBundle(device.folder).succeeded)
    }
}
