import Foundation
import IoTCAKit
import Testing
import TestSupport

/// Two `iotca ca create` of one name at once (issue 10, item 2): one wins, the other fails with
/// exit 7, and the winner's key opens and matches its certificate. On the old code, the loser
/// moved the winner's key file aside and `doctor` saw nothing.
@Suite struct CARaceTests {
    @Test func twoCreatesOfOneNameLeaveOneWorkingCA() throws {
        let folder = TemporaryFolder()
        let passphrase = "race test passphrase"
        var environment = ProcessInfo.processInfo.environment
        environment["IOTCA_STORE"] = folder.path("store")
        environment["IOTCA_PASSPHRASE"] = passphrase
        #expect(try ProcessRunner.run(ProcessRunner.iotcaExecutable, ["init"], environment: environment).succeeded)
        let rounds = 12
        for round in 0..<rounds {
            let name = "race\(round)"
            let statuses = try ProcessRunner.race(ProcessRunner.iotcaExecutable, ["ca", "create", name, "--parent", "root"],
                                                  environment: environment)
            #expect(statuses == [0, CLIStatus.conflict.rawValue], "round \(round): \(statuses)")
            let issued = try ProcessRunner.run(ProcessRunner.iotcaExecutable, ["issue", "d-\(round)", "--ca", name, "--out", folder.path("b")],
                                               environment: environment)
            #expect(issued.succeeded, "round \(round): \(issued.stderr)")
        }
        let store = try Store.open(folder.appending("store"))
        for round in 0..<rounds {
            let authority = try store.authority(named: "race\(round)")
            let key = try OpenSSLCLI.run(["pkey", "-in", store.layout.url(authority.keyFile).path, "-passin", "pass:\(passphrase)", "-pubout"])
            try Data(try #require(authority.certificateDER)).write(to: folder.appending("ca.der"))
            let certified = try OpenSSLCLI.run(["x509", "-inform", "DER", "-in", folder.path("ca.der"), "-noout", "-pubkey"])
            #expect(key.succeeded && key.stdout == certified.stdout, "race\(round)")
        }
        // No key files left behind by the losers, and doctor (with the passphrase) is clean.
        let keys = try FileManager.default.contentsOfDirectory(atPath: store.layout.keys.path)
        #expect(keys.count == 5 + rounds, "\(keys)")  // root, issuing, standby root, the service's two, and one per race
        let doctor = try ProcessRunner.run(ProcessRunner.iotcaExecutable, ["doctor"], environment: environment)
        #expect(doctor.succeeded, "\(doctor.stdout)")
    }

    /// A create killed after writing its key file and before its commit leaves only that file:
    /// the same create run again succeeds beside it, and doctor names the leftover.
    @Test func aCreateKilledBeforeItsCommitCanBeRunAgain() throws {
        let folder = TemporaryFolder()
        var environment = ProcessInfo.processInfo.environment
        environment["IOTCA_STORE"] = folder.path("store")
        environment["IOTCA_PASSPHRASE"] = "race test passphrase"
        #expect(try ProcessRunner.run(ProcessRunner.iotcaExecutable, ["init"], environment: environment).succeeded)
        // What the killed run left: a key file no row names.
        let leftover = folder.appending("store/keys/line-2.0123456789ab.key.pem")
        try Data("-----BEGIN ENCRYPTED PRIVATE KEY-----\n-----END ENCRYPTED PRIVATE KEY-----\n".utf8).write(to: leftover)
        let again = try ProcessRunner.run(ProcessRunner.iotcaExecutable, ["ca", "create", "line-2", "--parent", "root"], environment: environment)
        #expect(again.succeeded, "\(again.stderr)")
        #expect(FileManager.default.fileExists(atPath: leftover.path))
        let doctor = try ProcessRunner.run(ProcessRunner.iotcaExecutable, ["doctor"], environment: environment)
        #expect(doctor.status == CLIStatus.store.rawValue && doctor.stdout.contains("line-2.0123456789ab.key.pem"), "\(doctor.stdout)")
        #expect(try ProcessRunner.run(ProcessRunner.iotcaExecutable, ["issue", "d-1", "--ca", "line-2", "--out", folder.path("b")],
                                      environment: environment).succeeded)
        // Twice, one after the other: the second is a conflict and changes nothing.
        let twice = try ProcessRunner.run(ProcessRunner.iotcaExecutable, ["ca", "create", "line-2", "--parent", "root"], environment: environment)
        #expect(twice.status == CLIStatus.conflict.rawValue)
    }
}
