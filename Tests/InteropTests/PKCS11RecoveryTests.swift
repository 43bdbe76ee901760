import Foundation
@testable import IoTCAKit
import Testing
import TestSupport

/// A token that loses the process's sessions and login (removed and put back, sessions closed
/// by another program) costs one retry, not the service: the next signature opens a session,
/// logs in again and succeeds. Run in this process against SoftHSM2, the one test here that
/// loads the module in-process (SoftHSM2 reads its configuration once, at C_Initialize).
@Suite(.enabled(if: SoftHSM.isInstalled), .serialized)
struct PKCS11RecoveryTests {
    @Test func aLostSessionAndLoginAreRecoveredOnTheNextSignature() throws {
        let folder = TemporaryFolder("iotca-pkcs11-recovery")
        let token = try SoftHSM(folder: folder.appending("hsm"))
        setenv("SOFTHSM2_CONF", token.folder.appendingPathComponent("softhsm2.conf").path, 1)
        var options = StoreInitializer.Options(organization: "Recovery", passphrase: nil)
        options.token = try PKCS11URI(parsing: "pkcs11:token=\(token.label)?module-path=\(SoftHSM.module)")
        options.tokenPIN = .fixed(Passphrase(SoftHSM.userPIN))
        _ = try StoreInitializer.initialize(at: folder.appending("store"), options: options)
        let authority = try CertificateAuthority(store: folder.appending("store"), passphrase: .fixed(nil))
        authority.keyring.tokenPIN = .fixed(Passphrase(SoftHSM.userPIN))
        let first = try authority.issue(IssueRequest(thing: "meter-1"), into: folder.appending("bundles"))
        #expect(try OpenSSLCLI.verifyBundle(first.folder).succeeded)

        // Every session of this process closed on the token, the login with them.
        let session = try PKCS11Module.load(SoftHSM.module).session(token: token.label) { Passphrase(SoftHSM.userPIN) }
        session.closeAllSessions()
        let second = try authority.issue(IssueRequest(thing: "meter-2"), into: folder.appending("bundles"))
        #expect(try OpenSSLCLI.verifyBundle(second.folder).succeeded)
        // And again, with the CRL (the CA key signs it in the token too).
        session.closeAllSessions()
        _ = try authority.revoke(.thing("meter-1"))
        let crl = try OpenSSLCLI.run(["crl", "-in", folder.path("store/public/issuing.crl.pem"), "-CAfile", folder.path("store/public/issuing.crt"),
                                      "-noout"])
        #expect(crl.stderr.contains("verify OK"), "\(crl.stderr)")
    }
}
