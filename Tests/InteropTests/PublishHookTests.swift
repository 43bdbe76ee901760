import Foundation
import IoTCAKit
import IoTCAService
import Testing
import TestSupport

/// `ca set --on-publish`: the command that makes running servers load a new CRL, run by every
/// publication; its failure is reported without undoing the revocation.
@Suite struct PublishHookTests {
    let folder = TemporaryFolder("iotca-hook")

    func iotca(_ arguments: [String]) throws -> ProcessResult {
        var environment = ProcessInfo.processInfo.environment
        environment["IOTCA_STORE"] = folder.path("store")
        environment["IOTCA_PASSPHRASE"] = "hook test passphrase"
        return try ProcessRunner.run(ProcessRunner.iotcaExecutable, arguments, environment: environment, directory: folder.url)
    }

    @Test func theCommandRunsWithTheCRLsPathsAndItsFailureLeavesTheRevocation() throws {
        #expect(try iotca(["init"]).succeeded)
        for thing in ["d1", "d2", "d3"] { #expect(try iotca(["issue", thing]).succeeded) }
        let out = folder.path("hook.out")
        let set = try iotca(["ca", "set", "issuing", "--on-publish", "printf '%s %s %s' \"$IOTCA_CA\" \"$IOTCA_CRL_DER\" \"$IOTCA_CRL_PEM\" > '\(out)'"])
        #expect(set.succeeded, "\(set.stderr)")
        #expect(try iotca(["ca", "show", "issuing"]).stdout.contains("IOTCA_CRL_PEM"))

        let revoked = try iotca(["revoke", "--thing", "d1"])
        #expect(revoked.succeeded, "\(revoked.stderr)")
        let said = try String(contentsOfFile: out, encoding: .utf8).split(separator: " ").map(String.init)
        #expect(said.count == 3 && said[0] == "issuing" && said[1].hasSuffix("public/issuing.crl") && said[2].hasSuffix("public/issuing.crl.pem"))
        // The command saw the new CRL, the revoked serial on it.
        let serial = try #require(try iotca(["show", "d1", "--json"]).stdout.components(separatedBy: "\"serial\" : \"").dropFirst().first?.prefix(40))
        let crl = try OpenSSLCLI.run(["crl", "-in", said[2], "-noout", "-text"])
        #expect(crl.stdout.uppercased().contains(String(serial).uppercased()), "\(crl.stdout)")

        // A failing command: reported (exit 9, what failed and why), the revocation stands.
        #expect(try iotca(["ca", "set", "issuing", "--on-publish", "echo broker unreachable >&2; exit 3"]).succeeded)
        let failed = try iotca(["revoke", "--thing", "d2"])
        #expect(failed.status == 9, "\(failed.stderr)")
        #expect(failed.stderr.contains("exit 3") && failed.stderr.contains("broker unreachable") && failed.stderr.contains("the revocation stands"),
                "\(failed.stderr)")
        #expect(try iotca(["list", "--status", "revoked", "--json"]).stdout.contains("\"d2\""))
        #expect(try iotca(["crl", "publish", "--ca", "issuing"]).status == 9)
        // Removed: publishing is quiet again.
        #expect(try iotca(["ca", "set", "issuing", "--on-publish", ""]).succeeded)
        #expect(try iotca(["revoke", "--thing", "d3"]).succeeded)
    }

    /// The command runs with PATH and the CRL's names alone: never the CA passphrase, a token
    /// PIN or a database password the CLI (or the service) was started with.
    @Test func theCommandSeesNoSecretOfTheProcessThatRunsIt() throws {
        #expect(try iotca(["init"]).succeeded)
        #expect(try iotca(["issue", "d1"]).succeeded)
        let out = folder.path("env.out")
        #expect(try iotca(["ca", "set", "issuing", "--on-publish", "env > '\(out)'"]).succeeded)
        var environment = ProcessInfo.processInfo.environment
        environment["IOTCA_STORE"] = folder.path("store")
        environment["IOTCA_PASSPHRASE"] = "hook test passphrase"
        environment["IOTCA_PKCS11_PIN"] = "1234-secret-pin"
        environment["PGPASSWORD"] = "secret-database-password"
        let revoked = try ProcessRunner.run(ProcessRunner.iotcaExecutable, ["revoke", "--thing", "d1"], environment: environment,
                                            directory: folder.url)
        #expect(revoked.succeeded, "\(revoked.stderr)")
        let names = Set(try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n").compactMap { $0.split(separator: "=").first.map(String.init) })
        // What sh itself adds (PWD, SHLVL, _) besides what iotca gives.
        #expect(names.isSubset(of: ["PATH", "IOTCA_CA", "IOTCA_CRL_DER", "IOTCA_CRL_PEM", "PWD", "SHLVL", "_", "OLDPWD"]), "\(names)")
        let text = try String(contentsOfFile: out, encoding: .utf8)
        #expect(!text.contains("hook test passphrase") && !text.contains("1234-secret-pin") && !text.contains("secret-database-password"))
    }

    /// mosquitto reads its crlfile at start and on SIGHUP: with `kill -HUP` as the command, a
    /// revoked device is refused with no reload by hand.
    @Test(.enabled(if: Broker.isInstalled)) func mosquittoRefusesARevokedDeviceWithNoReloadByHand() throws {
        let fixture = try TemporaryStore(encrypted: false)
        let server = try fixture.issue(IssueRequest(thing: "broker", template: "server", subjectAltNames: [try SubjectAltName("ip:127.0.0.1")]))
        let device = try fixture.issue(IssueRequest(thing: "meter-9"))
        fixture.keyring.publishHook = ShellPublishHook.run  // as the CLI and the service run it
        let authority = CertificateAuthority(keyring: fixture.keyring)
        _ = try authority.publishCRLs()
        let read = { (url: URL) throws -> Data in try Data(contentsOf: url) }
        let chain = fixture.folder.appending("broker-chain.pem"), cas = fixture.folder.appending("cas.pem")
        try (read(server.folder.appendingPathComponent("cert.pem")) + read(server.folder.appendingPathComponent("chain.pem"))).write(to: chain)
        try (read(fixture.store.layout.certificateFile(for: "root")) + read(fixture.store.layout.certificateFile(for: "issuing"))).write(to: cas)
        let broker = try Broker.mutualTLS(folder: fixture.folder.url, cafile: cas, certfile: chain, keyfile: server.folder.appendingPathComponent("key.pem"),
                                          crlfile: fixture.store.layout.publicFolder.appendingPathComponent("issuing.crl.pem"))
        defer { broker.stop() }
        _ = try authority.configureCA("issuing", onPublish: "kill -HUP \(broker.processID)")
        func publish() throws -> ProcessResult {
            try ProcessRunner.run("mosquitto_pub", ["-h", "127.0.0.1", "-p", "\(broker.port)", "--cafile", device.folder.appendingPathComponent("root.pem").path,
                                                    "--cert", device.folder.appendingPathComponent("cert.pem").path,
                                                    "--key", device.folder.appendingPathComponent("key.pem").path, "-i", "meter-9",
                                                    "-t", "meters/9", "-m", "reading", "-q", "1"], timeout: 20)
        }
        #expect(try publish().succeeded)
        let reloads = broker.reloads
        _ = try authority.revoke(.thing("meter-9"), reason: .keyCompromise)
        #expect(broker.waitForReload(after: reloads), "the on-publish command did not make mosquitto reload")
        let refused = try publish()
        #expect(!refused.succeeded, "\(refused.stdout) \(refused.stderr)")
    }
}
