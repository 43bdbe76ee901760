import Foundation
import Testing
import TestSupport

/// `iotca broker-config` from the command line: two at once on one folder, a refused re-run
/// (exit 7, nothing written), and a hostile folder name (exit 5).
@Suite struct BrokerConfigCLITests {
    let folder = TemporaryFolder("iotca-broker-config")
    var environment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["IOTCA_STORE"] = folder.path("store")
        environment["IOTCA_PASSPHRASE"] = "broker config passphrase"
        return environment
    }

    func iotca(_ arguments: [String]) throws -> ProcessResult {
        try ProcessRunner.run(ProcessRunner.iotcaExecutable, arguments, environment: environment, directory: folder.url)
    }

    @Test func twoAtOnceLeaveOneServerCertificateAndAWholeFolder() throws {
        #expect(try iotca(["init"]).succeeded)
        let arguments = ["broker-config", "mosquitto", "nginx", "--out", folder.path("broker")]
        let statuses = try ProcessRunner.race(ProcessRunner.iotcaExecutable, arguments, environment: environment)
        // One issues the server certificate; the other reuses it or is refused as a conflict.
        #expect(statuses.first == 0 && statuses.allSatisfy { $0 == 0 || $0 == 7 }, "\(statuses)")
        let again = try iotca(arguments)
        #expect(again.succeeded && !again.stdout.contains("written "), "\(again.stdout) \(again.stderr)")
        #expect(try iotca(["list", "--thing", "broker", "--status", "active", "--json"]).stdout.components(separatedBy: "\"serial\"").count == 2)
        #expect(try iotca(["doctor"]).succeeded)
    }

    @Test func aChangedFileOrAHostileFolderIsRefusedWithNothingWritten() throws {
        #expect(try iotca(["init"]).succeeded)
        let out = folder.path("broker")
        #expect(try iotca(["broker-config", "mosquitto", "--out", out]).succeeded)
        let before = try String(contentsOfFile: out + "/mosquitto.conf", encoding: .utf8)
        let refused = try iotca(["broker-config", "mosquitto", "--out", out, "--mqtt-port", "1883"])
        #expect(refused.status == 7 && refused.stderr.contains("mosquitto.conf") && refused.stderr.contains("nothing was written"), "\(refused.stderr)")
        #expect(try String(contentsOfFile: out + "/mosquitto.conf", encoding: .utf8) == before)
        let hostile = try iotca(["broker-config", "nginx", "--out", folder.path("a;b")])
        #expect(hostile.status == 5 && hostile.stderr.contains("cannot go into a server configuration"), "\(hostile.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder.path("a;b")))
        let clash = try iotca(["broker-config", "nginx", "--out", out, "--wss-port", "8443"])
        #expect(clash.status == 5 && clash.stderr.contains("each needs a port of its own"), "\(clash.stderr)")
    }
}
