import Foundation
@testable import IoTCAKit
import Testing
import TestSupport

/// Issue 12: key files that resist guessing, a passphrase policy, and a passphrase change that a
/// kill at any step cannot turn into a store neither passphrase opens.
@Suite struct PassphraseTests {
    static let old = "the old long passphrase"
    static let new = "a brand new long passphrase"

    final class CLI: @unchecked Sendable {
        let folder = TemporaryFolder("iotca-passphrase")
        var store: URL { folder.appending("store") }

        func run(_ arguments: [String], passphrase: String?, extra: [String: String] = [:]) throws -> ProcessResult {
            var environment = ProcessInfo.processInfo.environment
            environment["IOTCA_STORE"] = store.path
            environment["IOTCA_PASSPHRASE"] = passphrase
            environment["IOTCA_TEST_KILL_AT"] = nil
            for (key, value) in extra { environment[key] = value }
            return try ProcessRunner.run(ProcessRunner.iotcaExecutable, arguments, environment: environment, directory: folder.url)
        }

        func newPassphraseFile(_ text: String) throws -> String {
            let path = folder.path("new-passphrase")
            try Data((text + "\n").utf8).write(to: URL(fileURLWithPath: path))
            return path
        }

        func keyFiles() throws -> [String] {
            try FileManager.default.contentsOfDirectory(atPath: store.appendingPathComponent("keys").path).sorted()
        }
    }

    @Test func newKeyFilesUsePBKDF2SHA256At600000IterationsAndOpenWithOpenSSL() throws {
        let cli = CLI()
        #expect(try cli.run(["init"], passphrase: Self.old).succeeded)
        let files = try cli.keyFiles()
        #expect(files.count == 5)  // root, issuing, standby root, service-root, service
        for file in files {
            let path = cli.store.appendingPathComponent("keys/\(file)").path
            let parsed = try OpenSSLCLI.run(["asn1parse", "-in", path]).stdout
            #expect(parsed.contains(":PBES2") && parsed.contains(":PBKDF2") && parsed.contains(":hmacWithSHA256")
                    && parsed.contains(":aes-256-cbc"), "\(parsed)")
            #expect(parsed.contains("INTEGER           :0927C0"), "600,000 iterations: \(parsed)")  // 0x0927C0
            #expect(parsed.contains("l=  16 prim: OCTET STRING"), "a 16-byte salt: \(parsed)")
            #expect(try OpenSSLCLI.run(["pkey", "-in", path, "-passin", "pass:\(Self.old)", "-noout"]).succeeded)
            let protection = try #require(KeyFileProtection.read(pem: try String(contentsOfFile: path, encoding: .utf8)))
            #expect(protection.meetsPolicy && protection.iterations == 600_000 && protection.kdf == "PBKDF2-HMAC-SHA256")
        }
    }

    @Test func aShortPassphraseIsRefusedAndNothingIsWritten() throws {
        let cli = CLI()
        let refused = try cli.run(["init"], passphrase: "short-pass")
        #expect(refused.status == CLIStatus.passphrase.rawValue)
        #expect(refused.stderr.contains("10 characters") && refused.stderr.contains("at least 12"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: cli.store.path))
        #expect(try FileManager.default.contentsOfDirectory(atPath: cli.folder.url.path).isEmpty)
    }

    /// A store as older versions made it: a 6-letter passphrase and 2,048 iterations.
    func legacyStore() throws -> CLI {
        let cli = CLI()
        #expect(try cli.run(["init"], passphrase: Self.old).succeeded)
        let store = try Store.open(cli.store)
        var files = try store.authorities().map(\.keyFile) + store.standbyKeys().map(\.keyFile)
        files = Array(Set(files))
        for file in files {
            let url = store.layout.url(file)
            let key = try PrivateKeyMaterial(pem: try String(contentsOf: url, encoding: .utf8), passphrase: Passphrase(Self.old), path: file)
            try Data(try key.pem(encryptedWith: Passphrase("legacy"), protection: .insecureFastForTests).utf8).write(to: url)
        }
        return cli
    }

    @Test func changeRefusesNothingWhenOldThenTheOldPassphraseFailsAndTheNewOneWorks() throws {
        let cli = try legacyStore()
        // doctor flags every key file made with the old parameters.
        let before = try cli.run(["doctor", "--json"], passphrase: "legacy")
        #expect(before.status == CLIStatus.store.rawValue)
        let findings = try JSONDecoder().decode(DoctorFindings.self, from: Data(before.stdout.utf8)).findings
        #expect(findings.filter { $0.check == "kdf" }.count == 5, "\(before.stdout)")
        #expect(before.stdout.contains("2048 iterations"))
        // A new CA is not encrypted with a passphrase below the policy.
        let keysBefore = try cli.keyFiles()
        let create = try cli.run(["ca", "create", "line-2", "--parent", "root"], passphrase: "legacy")
        #expect(create.status == CLIStatus.passphrase.rawValue && create.stderr.contains("passphrase change"), "\(create.stderr)")
        #expect(try cli.keyFiles() == keysBefore)
        // A wrong current passphrase changes nothing.
        let file = try cli.newPassphraseFile(Self.new)
        #expect(try cli.run(["passphrase", "change", "--new-passphrase-file", file], passphrase: "wrong").status == CLIStatus.passphrase.rawValue)
        #expect(try cli.keyFiles() == keysBefore)
        // A short new one is refused.
        let short = try cli.newPassphraseFile("too short")
        #expect(try cli.run(["passphrase", "change", "--new-passphrase-file", short], passphrase: "legacy").status == CLIStatus.passphrase.rawValue)
        #expect(try cli.keyFiles() == keysBefore)

        let file2 = try cli.newPassphraseFile(Self.new)
        let changed = try cli.run(["passphrase", "change", "--new-passphrase-file", file2], passphrase: "legacy")
        #expect(changed.succeeded, "\(changed.stderr)")
        #expect(changed.stdout.contains("Re-encrypted 5 key files"))
        #expect(try cli.keyFiles().count == 5 && Set(try cli.keyFiles()).isDisjoint(with: keysBefore))
        #expect(try cli.run(["issue", "d-1"], passphrase: "legacy").status == CLIStatus.passphrase.rawValue)
        #expect(try cli.run(["issue", "d-1"], passphrase: Self.new).succeeded)
        #expect(try cli.run(["crl", "publish"], passphrase: Self.new).succeeded)
        #expect(try OpenSSLCLI.verifyBundle(cli.folder.appending("bundles/d-1")).succeeded)
        let doctor = try cli.run(["doctor"], passphrase: Self.new)
        #expect(doctor.succeeded, "\(doctor.stdout)")
        let events = try Store.open(cli.store).events()
        #expect(events.contains { $0.action == "store.passphrase.change" && $0.details.contains("600000") })
        #expect(!events.contains { $0.details.contains(Self.new) || $0.details.contains("legacy") })
        #expect(try cli.run(["ca", "create", "line-2", "--parent", "root"], passphrase: Self.new).succeeded)
    }

    struct DoctorFindings: Decodable {
        struct Finding: Decodable { let check: String }
        let findings: [Finding]
    }

    @Test(arguments: PassphraseChange.Step.allCases)
    func aChangeKilledAtAnyStepLeavesAStoreOnePassphraseOpensAndFinishesOnReRun(step: PassphraseChange.Step) throws {
        let cli = CLI()
        #expect(try cli.run(["init"], passphrase: Self.old).succeeded)
        let file = try cli.newPassphraseFile(Self.new)
        let killed = try cli.run(["passphrase", "change", "--new-passphrase-file", file], passphrase: Self.old,
                                 extra: ["IOTCA_TEST_KILL_AT": step.rawValue])
        #expect(!killed.succeeded, "\(step) was not reached")
        let committed = [PassphraseChange.Step.committed, .oldFilesRemoved].contains(step)
        let opens = committed ? Self.new : Self.old
        let fails = committed ? Self.old : Self.new
        // Every key opens with exactly one of the two: the issuing CA issues, the root publishes a CRL.
        #expect(try cli.run(["issue", "d-\(step.rawValue)"], passphrase: fails).status == CLIStatus.passphrase.rawValue)
        #expect(try cli.run(["issue", "d-\(step.rawValue)"], passphrase: opens).succeeded, "\(step)")
        #expect(try cli.run(["crl", "publish", "--all"], passphrase: opens).succeeded, "\(step)")
        // Re-run with the passphrase that opens the store: it finishes, and nothing is left over.
        let rerun = try cli.run(["passphrase", "change", "--new-passphrase-file", file], passphrase: opens)
        #expect(rerun.succeeded, "\(step): \(rerun.stderr)")
        let left = try cli.keyFiles()
        #expect(left.count == 5, "\(step): \(left)")
        let doctor = try cli.run(["doctor"], passphrase: Self.new)
        #expect(doctor.succeeded, "\(step): \(doctor.stdout)")
        #expect(try cli.run(["issue", "e-\(step.rawValue)"], passphrase: Self.new).succeeded)
    }

    /// Two changes at once: the key-file lock runs them one after the other; the second finds
    /// its current passphrase no longer opens the keys and changes nothing.
    @Test func twoChangesAtOnceLeaveOneNewPassphrase() throws {
        let cli = CLI()
        #expect(try cli.run(["init"], passphrase: Self.old).succeeded)
        let file = try cli.newPassphraseFile(Self.new)
        var environment = ProcessInfo.processInfo.environment
        environment["IOTCA_STORE"] = cli.store.path
        environment["IOTCA_PASSPHRASE"] = Self.old
        environment["IOTCA_TEST_KILL_AT"] = nil
        let statuses = try ProcessRunner.race(ProcessRunner.iotcaExecutable, ["passphrase", "change", "--new-passphrase-file", file],
                                              environment: environment)
        #expect(statuses == [0, CLIStatus.passphrase.rawValue])
        #expect(try cli.keyFiles().count == 5)
        #expect(try cli.run(["issue", "d-1"], passphrase: Self.new).succeeded)
        #expect(try cli.run(["doctor"], passphrase: Self.new).succeeded)
    }
}
