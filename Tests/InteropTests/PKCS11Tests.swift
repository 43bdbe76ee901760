import Foundation
import Testing
import TestSupport

/// CA keys in a SoftHSM2 token through the real PKCS#11 module: every CA signature is made
/// there, openssl accepts the results, pkcs11-tool shows the keys sensitive and never
/// extractable, no key file exists; wrong PIN, module, object or key fail clearly, with nothing
/// written.
@Suite(.enabled(if: SoftHSM.isInstalled))
struct PKCS11Tests {
    let folder = TemporaryFolder("iotca-pkcs11")
    let token: SoftHSM
    var store: String { folder.path("store") }
    var uri: String { "pkcs11:token=\(token.label)" }

    init() throws { token = try SoftHSM(folder: folder.appending("hsm")) }

    func iotca(_ arguments: [String], pin: String? = SoftHSM.userPIN, passphrase: String? = nil) throws -> ProcessResult {
        var environment = token.environment
        environment["IOTCA_STORE"] = store
        environment["IOTCA_PKCS11_PIN"] = pin
        environment["IOTCA_PASSPHRASE"] = passphrase
        return try ProcessRunner.run(ProcessRunner.iotcaExecutable, arguments, environment: environment, directory: folder.url)
    }

    func initialize() throws {
        let made = try iotca(["init", "--pkcs11", uri, "--pkcs11-module", SoftHSM.module])
        #expect(made.succeeded, "\(made.stderr)")
    }

    func verify(_ thing: String, crl: String) throws -> ProcessResult {
        let bundle = folder.appending("bundles/\(thing)")
        let anchors = folder.appending("anchors.pem")
        try (try Data(contentsOf: bundle.appendingPathComponent("root.pem")) + (try Data(contentsOf: bundle.appendingPathComponent("chain.pem")))).write(to: anchors)
        return try OpenSSLCLI.run(["verify", "-x509_strict", "-crl_check", "-CAfile", anchors.path, "-CRLfile", crl,
                                   bundle.appendingPathComponent("cert.pem").path])
    }

    @Test func aStoreWhoseKeysAreInTheTokenIssuesRevokesAndPublishes() throws {
        try initialize()
        for thing in ["meter-1", "meter-2"] { #expect(try iotca(["issue", thing, "--out", folder.path("bundles")]).succeeded) }
        #expect(try iotca(["revoke", "--thing", "meter-2", "--reason", "key-compromise"]).succeeded)
        #expect(try iotca(["crl", "publish"]).succeeded)
        let crl = store + "/public/issuing.crl.pem"
        let good = try verify("meter-1", crl: crl)
        #expect(good.succeeded, "\(good.stdout) \(good.stderr)")
        let revoked = try verify("meter-2", crl: crl)
        #expect(!revoked.succeeded && (revoked.stdout + revoked.stderr).contains("certificate revoked"))
        // The root's CRL (signed in the token) over the issuing CA.
        let root = try OpenSSLCLI.run(["crl", "-in", store + "/public/root.crl.pem", "-CAfile", store + "/public/root.crt", "-noout"])
        #expect(root.succeeded && root.stderr.contains("verify OK"), "\(root.stderr)")

        let objects = try token.tool(["--list-objects", "--type", "privkey"])
        let keys = objects.stdout.components(separatedBy: "Private Key Object").dropFirst()
        #expect(keys.count == 5, "root, issuing, the standby root key and the service's two: \(objects.stdout)")
        for key in keys {
            #expect(key.contains("sensitive, always sensitive, never extractable"), "\(key)")
            #expect(key.contains("sign") && !key.contains("decrypt") && !key.contains("unwrap"), "\(key)")
        }
        for label in ["root", "issuing", "root-2", "service-root", "service"] { #expect(objects.stdout.contains("label:      \(label)\n")) }
        let files = try FileManager.default.contentsOfDirectory(atPath: store + "/keys")
        #expect(files.filter { $0.hasSuffix(".key.pem") }.isEmpty, "\(files)")

        // Signatures made in the token (r||s written as DER) and everything around them lint clean.
        for file in [folder.path("bundles/meter-1/cert.pem"), store + "/public/issuing.crt", store + "/public/root.crt"] {
            #expect(try LintTests.lintCertificate(file).isEmpty, "\(file)")
        }
        for crl in [crl, store + "/public/root.crl.pem"] { #expect(try LintTests.lintCRL(crl).isEmpty, "\(crl)") }

        let shown = try iotca(["ca", "show", "issuing"])
        #expect(shown.stdout.contains("in a PKCS#11 token: pkcs11:token=iotca;object=issuing;id=") && shown.stdout.contains("key reachable       yes"),
                "\(shown.stdout)")
        let doctor = try iotca(["doctor"])
        #expect(doctor.succeeded, "\(doctor.stdout) \(doctor.stderr)")
        // Another CA in the same token, and the service's OCSP signer and root rotation sign there too.
        #expect(try iotca(["ca", "create", "line-2", "--parent", "root", "--pkcs11", uri, "--pkcs11-module", SoftHSM.module]).succeeded)
        #expect(try iotca(["issue", "meter-3", "--ca", "line-2", "--out", folder.path("bundles")]).succeeded)
        // An external CA whose key is made in the token: its CSR is signed there, an outside CA
        // (openssl) certifies it, and it issues through the token.
        let csr = folder.path("partner.csr")
        #expect(try iotca(["ca", "create", "partner", "--external", "--csr-out", csr, "--pkcs11", uri, "--pkcs11-module", SoftHSM.module]).succeeded)
        #expect(try OpenSSLCLI.run(["req", "-in", csr, "-verify", "-noout"]).succeeded)
        let outside = folder.appending("outside")
        try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
        try Data("basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n".utf8)
            .write(to: outside.appendingPathComponent("ext.cnf"))
        for arguments in [
            ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=Outside Root", "-days", "30",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign",
             "-keyout", outside.appendingPathComponent("root.key").path, "-out", outside.appendingPathComponent("root.pem").path],
            ["x509", "-req", "-in", csr, "-CA", outside.appendingPathComponent("root.pem").path, "-CAkey", outside.appendingPathComponent("root.key").path,
             "-days", "20", "-extfile", outside.appendingPathComponent("ext.cnf").path, "-out", outside.appendingPathComponent("partner.pem").path],
        ] {
            let made = try OpenSSLCLI.run(arguments)
            #expect(made.succeeded, "\(made.stderr)")
        }
        let imported = try iotca(["ca", "import", "partner", "--cert", outside.appendingPathComponent("partner.pem").path,
                                  "--chain", outside.appendingPathComponent("root.pem").path])
        #expect(imported.succeeded, "\(imported.stderr)")
        #expect(try iotca(["issue", "meter-4", "--ca", "partner", "--out", folder.path("bundles")]).succeeded)
        let rotated = try iotca(["ca", "rotate-root"])
        #expect(rotated.succeeded, "\(rotated.stderr)")
        #expect(try token.tool(["--list-objects", "--type", "privkey"]).stdout.contains("label:      root-3\n"))
    }

    @Test func wrongPINModuleTokenOrObjectFailClearlyWithNothingWritten() throws {
        try initialize()
        let before = try iotca(["list", "--json"]).stdout
        let wrongPIN = try iotca(["issue", "meter-1", "--out", folder.path("bundles")], pin: "9999")
        #expect(wrongPIN.status == 4 && wrongPIN.stderr.contains("CKR_PIN_INCORRECT"), "\(wrongPIN.stderr)")
        let noPIN = try iotca(["issue", "meter-1", "--out", folder.path("bundles")], pin: nil)
        #expect(noPIN.status == 4 && noPIN.stderr.contains("PIN"), "\(noPIN.stderr)")
        #expect(try iotca(["list", "--json"]).stdout == before)
        #expect(!FileManager.default.fileExists(atPath: folder.path("bundles/meter-1")))

        let noModule = try iotca(["ca", "create", "x", "--parent", "root", "--pkcs11", uri, "--pkcs11-module", "/nonexistent/libpkcs11.so"])
        #expect(noModule.status == 8 && noModule.stderr.contains("cannot load the PKCS#11 module /nonexistent/libpkcs11.so"), "\(noModule.stderr)")
        let noToken = try iotca(["ca", "create", "x", "--parent", "root", "--pkcs11", "pkcs11:token=absent", "--pkcs11-module", SoftHSM.module])
        #expect(noToken.status == 8 && noToken.stderr.contains("no token labelled 'absent'") && noToken.stderr.contains("(present: 'iotca')"), "\(noToken.stderr)")
        let noObject = try iotca(["ca", "create", "x", "--parent", "root", "--pkcs11", uri + ";object=missing", "--pkcs11-module", SoftHSM.module])
        #expect(noObject.status == 8 && noObject.stderr.contains("no private key at pkcs11:token=iotca;object=missing"), "\(noObject.stderr)")
        let pinInURI = try iotca(["ca", "create", "x", "--parent", "root", "--pkcs11", uri + "?pin-value=1234", "--pkcs11-module", SoftHSM.module])
        #expect(pinInURI.status == 5, "\(pinInURI.stderr)")
        #expect(try iotca(["ca", "list"]).stdout.components(separatedBy: "\n").filter { $0.hasPrefix("x ") }.isEmpty)
        // A store cannot be made with a module that is not there: nothing left behind.
        let initFailed = try ProcessRunner.run(ProcessRunner.iotcaExecutable, ["init", "--store", folder.path("store-2"), "--pkcs11", uri,
                                                                               "--pkcs11-module", "/nonexistent/lib.so"], environment: token.environment)
        #expect(initFailed.status == 8 && !FileManager.default.fileExists(atPath: folder.path("store-2")))
    }

    /// The token's key under the issuing CA's label and id replaced by another: iotca refuses
    /// to sign with a key the CA's certificate does not certify.
    @Test func aTokenKeyThatIsNotTheCertifiedOneIsRefused() throws {
        try initialize()
        let shown = try iotca(["ca", "show", "issuing"]).stdout
        let id = try #require(shown.components(separatedBy: "object=issuing;id=").dropFirst().first?.prefix(while: { $0 != ";" }))
        let hex = id.replacingOccurrences(of: "%", with: "")
        for type in ["privkey", "pubkey"] { #expect(try token.tool(["--delete-object", "--type", type, "--id", hex]).succeeded) }
        let made = try token.tool(["--keypairgen", "--key-type", "EC:prime256v1", "--id", hex, "--label", "issuing"])
        #expect(made.succeeded, "\(made.stderr)")
        let refused = try iotca(["issue", "meter-1", "--out", folder.path("bundles")])
        #expect(refused.status == 7 && refused.stderr.contains("is not the key CA issuing's certificate certifies"), "\(refused.stderr)")
        #expect(try iotca(["list", "--json"]).stdout.contains("meter-1") == false)
        let doctor = try iotca(["doctor"])
        #expect(doctor.status == 3 && doctor.stdout.contains("issuing"), "\(doctor.stdout)")
    }

    /// Killed with the key in the token but not recorded, a second run finds it there (one key,
    /// not two); killed after the record, the CA signs from the token and doctor names the file
    /// left behind.
    @Test func aKilledKeyMoveIsFinishedByRunningItAgain() throws {
        let passphrase = "pkcs11 test passphrase"
        #expect(try iotca(["init"], passphrase: passphrase).succeeded)
        func move(_ name: String, killAt step: String?) throws -> ProcessResult {
            var environment = token.environment
            environment["IOTCA_STORE"] = store
            environment["IOTCA_PKCS11_PIN"] = SoftHSM.userPIN
            environment["IOTCA_PASSPHRASE"] = passphrase
            environment["IOTCA_TEST_KILL_AT"] = step
            return try ProcessRunner.run(ProcessRunner.iotcaExecutable, ["ca", "move-key", name, "--to", uri, "--pkcs11-module", SoftHSM.module],
                                         environment: environment, directory: folder.url)
        }
        #expect(!(try move("issuing", killAt: "imported")).succeeded, "imported was not reached")
        #expect(try iotca(["ca", "show", "issuing"], passphrase: passphrase).stdout.contains("key file"), "still the file's")
        let finished = try move("issuing", killAt: nil)
        #expect(finished.succeeded, "\(finished.stderr)")
        let keys = try token.tool(["--list-objects", "--type", "privkey"]).stdout
        #expect(keys.components(separatedBy: "label:      issuing\n").count == 2, "one key, not two: \(keys)")
        #expect(try iotca(["issue", "meter-1", "--out", folder.path("bundles")]).succeeded)

        #expect(!(try move("root", killAt: "recorded")).succeeded, "recorded was not reached")
        #expect(try iotca(["ca", "show", "root"]).stdout.contains("in a PKCS#11 token"))
        let doctor = try iotca(["doctor"], passphrase: passphrase)
        #expect(doctor.status == 3 && doctor.stdout.contains("no CA or standby key uses") && doctor.stdout.contains("root."), "\(doctor.stdout)")
        #expect(try iotca(["crl", "publish", "--ca", "root"]).succeeded, "the root signs from the token")
    }

    /// Two moves of one CA at once: one moves it, the other finds it already in the token; the
    /// token holds one key for it, and the store is consistent.
    @Test func twoMovesAtOnceLeaveOneKeyInTheToken() throws {
        let passphrase = "pkcs11 test passphrase"
        #expect(try iotca(["init"], passphrase: passphrase).succeeded)
        var environment = token.environment
        environment["IOTCA_STORE"] = store
        environment["IOTCA_PKCS11_PIN"] = SoftHSM.userPIN
        environment["IOTCA_PASSPHRASE"] = passphrase
        let statuses = try ProcessRunner.race(ProcessRunner.iotcaExecutable, ["ca", "move-key", "issuing", "--to", uri,
                                                                             "--pkcs11-module", SoftHSM.module], environment: environment)
        #expect(statuses.first == 0 && statuses.last != 0, "\(statuses)")
        let keys = try token.tool(["--list-objects", "--type", "privkey"]).stdout
        #expect(keys.components(separatedBy: "label:      issuing\n").count == 2, "one key, not two: \(keys)")
        #expect(try iotca(["issue", "meter-1", "--out", folder.path("bundles")]).succeeded)
        #expect(try iotca(["doctor"], passphrase: passphrase).succeeded)
    }

    @Test func aFileKeyMovesIntoTheTokenAndTheFileIsGone() throws {
        let passphrase = "pkcs11 test passphrase"
        #expect(try iotca(["init"], passphrase: passphrase).succeeded)
        #expect(try iotca(["ca", "create", "rsa-line", "--parent", "root", "--key-type", "rsa-2048"], passphrase: passphrase).succeeded)
        for name in ["issuing", "rsa-line"] {
            let moved = try iotca(["ca", "move-key", name, "--to", uri, "--pkcs11-module", SoftHSM.module], passphrase: passphrase)
            #expect(moved.succeeded, "\(moved.stderr)")
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: store + "/keys").filter { $0.hasSuffix(".key.pem") }
        #expect(files.allSatisfy { $0.hasPrefix("root") || $0.hasPrefix("service") }, "\(files)")
        // Signing now needs the PIN only: no passphrase.
        #expect(try iotca(["issue", "meter-1", "--out", folder.path("bundles")]).succeeded)
        #expect(try iotca(["issue", "meter-2", "--ca", "rsa-line", "--out", folder.path("bundles")]).succeeded)
        #expect(try iotca(["crl", "publish", "--ca", "issuing", "--ca", "rsa-line"]).succeeded)
        let good = try verify("meter-1", crl: store + "/public/issuing.crl.pem")
        #expect(good.succeeded, "\(good.stdout) \(good.stderr)")
        let rsa = try verify("meter-2", crl: store + "/public/rsa-line.crl.pem")
        #expect(rsa.succeeded, "\(rsa.stdout) \(rsa.stderr)")
        let objects = try token.tool(["--list-objects", "--type", "privkey"]).stdout
        for key in objects.components(separatedBy: "Private Key Object").dropFirst() {
            #expect(key.contains("sensitive") && !key.contains(", extractable"), "\(key)")
        }
        let again = try iotca(["ca", "move-key", "issuing", "--to", uri, "--pkcs11-module", SoftHSM.module], passphrase: passphrase)
        #expect(again.status != 0 && again.stderr.contains("already in a token"), "\(again.stderr)")
        #expect(try iotca(["doctor"], passphrase: passphrase).succeeded)
    }
}
