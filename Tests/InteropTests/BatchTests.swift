import Foundation
import IoTCAKit
import Testing
import TestSupport

/// `iotca batch`: a factory line's file, judged by openssl, and killed half-way.
@Suite struct BatchTests {
    func csv(_ count: Int, prefix: String = "dev") -> String {
        "thing,model\n" + (0..<count).map { "\(prefix)-\($0),m\($0 % 4)\n" }.joined()
    }

    @Test func thousandRowsAllVerifyWithOpenSSL() throws {
        let fixture = try TemporaryStore(encrypted: false)
        let file = fixture.folder.appending("line-1.csv")
        try Data(csv(1_000).utf8).write(to: file)
        let report = try BatchRunner(keyring: fixture.keyring).run(file: file, out: fixture.bundles, options: BatchOptions())
        #expect(report.issued == 1_000 && report.failed == 0 && report.skipped == 0)
        #expect(try fixture.store.certificates(CertificateFilter(status: .active)).count == 1_000)
        let certificates = (0..<1_000).map { fixture.bundles.appendingPathComponent("dev-\($0)/cert.pem").path }
        let verify = try OpenSSLCLI.run(["verify", "-x509_strict", "-purpose", "sslclient",
                                         "-CAfile", fixture.bundles.appendingPathComponent("dev-0/root.pem").path,
                                         "-untrusted", fixture.bundles.appendingPathComponent("dev-0/chain.pem").path] + certificates)
        #expect(verify.succeeded, "\(verify.stderr)")
        #expect(verify.stdout.split(separator: "\n").filter { $0.hasSuffix(": OK") }.count == 1_000)
        // Each bundle's key is the one its certificate certifies (spot check).
        let key = try OpenSSLCLI.run(["pkey", "-pubout", "-in", fixture.bundles.appendingPathComponent("dev-517/key.pem").path]).stdout
        let certKey = try OpenSSLCLI.run(["x509", "-noout", "-pubkey", "-in", certificates[517]]).stdout
        #expect(key == certKey)
        // A second run skips everything.
        let again = try BatchRunner(keyring: fixture.keyring).run(file: file, out: fixture.bundles, options: BatchOptions())
        #expect(again.skipped == 1_000 && again.issued == 0)
    }

    @Test func badRowsAreReportedByLineAndDoNotStopTheOthers() throws {
        let fixture = try TemporaryStore(encrypted: false)
        try Data("garbage".utf8).write(to: fixture.folder.appending("broken.csr"))
        let file = fixture.folder.appending("rows.csv")
        try Data("""
            thing,template,csr,site
            good-1,,,lyon
            good-2,server,,lyon
            bad/name,,,lyon
            good-1,,,paris
            gw-1,nope,,lyon
            sensor-1,,broken.csr,lyon
            good-3,,,"quoted, with comma"

            """.utf8).write(to: file)
        var options = BatchOptions()
        options.allowedTemplates = ["server", "nope"]
        let report = try BatchRunner(keyring: fixture.keyring).run(file: file, out: fixture.bundles, options: options)
        #expect(report.issued == 3)
        #expect(report.failures.map(\.line) == [4, 5, 6, 7])
        #expect(report.failures[1].error.contains("listed twice (first on line 2)"))
        #expect(report.failures[2].error.contains("no template named 'nope'"))
        #expect(report.failures[3].error.contains("invalid CSR"))
        #expect(try OpenSSLCLI.verifyBundle(fixture.bundles.appendingPathComponent("good-2"), purpose: "sslserver").succeeded)

        var failFast = BatchOptions()
        failFast.failFast = true
        let other = fixture.folder.appending("fail-fast.jsonl")
        try Data("""
            {"thing": "j-1", "attributes": {"site": "lyon"}}
            {"thing": "j 2"}
            {"thing": "j-3"}

            """.utf8).write(to: other)
        let stopped = try BatchRunner(keyring: fixture.keyring).run(file: other, out: fixture.bundles, options: failFast)
        #expect(stopped.issued == 0 && stopped.failures.map(\.line) == [2])
    }

    @Test func aBatchKilledHalfWayLeavesOnlyRecordedBundlesAndResumes() throws {
        let fixture = try TemporaryStore(encrypted: false)
        let file = fixture.folder.appending("big.csv")
        let count = 4_000
        try Data(csv(count).utf8).write(to: file)
        var environment = ProcessInfo.processInfo.environment
        environment["IOTCA_STORE"] = fixture.storeURL.path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ProcessRunner.iotcaExecutable)
        process.arguments = ["batch", file.path, "--out", fixture.bundles.path]
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        // The batch writes into an existing folder, so the test can watch it from the start.
        try FileManager.default.createDirectory(at: fixture.bundles, withIntermediateDirectories: true)
        try process.run()
        // Kill it once some bundles exist, mid-run: woken by each bundle moved in, 4 s at most.
        _ = FileWatch.wait(in: fixture.bundles, timeout: 4) {
            let written = ((try? FileManager.default.contentsOfDirectory(atPath: fixture.bundles.path)) ?? []).filter { !$0.hasPrefix(".") }
            return written.count >= 600 || !process.isRunning
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()

        // Every bundle on disk has its row.
        let onDisk = ((try? FileManager.default.contentsOfDirectory(atPath: fixture.bundles.path)) ?? []).filter { !$0.hasPrefix(".") }
        let active = Set(try fixture.store.activeThings(recoverableFor: "", among: onDisk).keys)
        #expect(!onDisk.isEmpty)
        #expect(onDisk.allSatisfy { active.contains($0) })
        #expect(onDisk.count < count, "the batch finished before it could be killed: nothing was tested")

        // The re-run finishes the rest without a second certificate for any thing.
        let report = try BatchRunner(keyring: fixture.keyring).run(file: file, out: fixture.bundles, options: BatchOptions())
        #expect(report.failed == 0)
        #expect(report.skipped + report.issued + report.recovered == count)
        let activeNow = try fixture.store.certificates(CertificateFilter(status: .active))
        #expect(activeNow.count == count)
        #expect(Set(activeNow.compactMap(\.thing)).count == count)
        let finalDisk = ((try? FileManager.default.contentsOfDirectory(atPath: fixture.bundles.path)) ?? [])
        #expect(finalDisk.count == count)  // no staging leftovers
        // Each bundle holds the thing's active certificate.
        for thing in ["dev-0", "dev-\(count / 2)", "dev-\(count - 1)"] {
            let manifest = try String(contentsOf: fixture.bundles.appendingPathComponent("\(thing)/manifest.json"), encoding: .utf8)
            let serial = try fixture.store.certificates(CertificateFilter(thing: thing, status: .active)).first?.serial.hex ?? "?"
            #expect(manifest.contains(serial))
        }
    }
}
