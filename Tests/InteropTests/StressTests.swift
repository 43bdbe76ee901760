import Foundation
import Testing
import TestSupport

/// Short runs of the stress commands, so CI sees concurrency and kill -9 every time; the long
/// runs and their figures are in the README.
@Suite(.serialized) struct StressTests {
    var bench: String {
        URL(fileURLWithPath: ProcessRunner.iotcaExecutable).deletingLastPathComponent().appendingPathComponent("iotca-bench").path
    }

    @Test func processesSharingAStoreNeverFailOrDuplicate() throws {
        let result = try ProcessRunner.run(bench, ["stress", "--operations", "12", "--lines", "2"], timeout: 300)
        #expect(result.succeeded, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("failures 0"))
        #expect(result.stdout.contains("duplicate serials 0, doctor findings 0"))
    }

    @Test func parsersSurviveAShortFuzzRun() throws {
        let folder = TemporaryFolder()
        let result = try ProcessRunner.run(bench, ["fuzz", "--seconds", "5", "--crashes", folder.path("crashes")], directory: folder.url, timeout: 120)
        #expect(result.succeeded, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("crashes found: 0"))
    }

    @Test func killedProcessesLeaveAConsistentStoreAndTheWorkFinishes() throws {
        let result = try ProcessRunner.run(bench, ["crash", "--kills", "16", "--rows", "600"], timeout: 300)
        #expect(result.succeeded, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("600 of 600 devices with exactly one active certificate: true"))
        #expect(result.stdout.contains("findings 0"))
    }
}
