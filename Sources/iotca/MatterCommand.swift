import ArgumentParser
import Foundation
import IoTCAKit

struct MatterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "matter",
        abstract: "Matter device attestation: revocation sets for commissioners, and a test PAA, PAI and DACs.",
        subcommands: [RevocationSet.self, TestSet.self])

    struct RevocationSet: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "revocation-set",
            abstract: "Write the revocation set (JSON) of a PAA's or PAI's newest CRL, as chip-tool --dac-revocation-set-path reads it.")

        @OptionGroup var storeOptions: StoreOptions

        @Option(help: "The CA whose CRL the set lists (a PAI for revoked DACs, the PAA for revoked PAIs).")
        var ca = "issuing"

        @Option(help: ArgumentHelp("Where to write the set (- for standard output).", valueName: "FILE"))
        var out: String

        func run() throws {
            try Output.run {
                let set = try storeOptions.authority().matterRevocationSet(of: ca)
                if out == "-" {
                    FileHandle.standardOutput.write(Data(set))
                } else {
                    try AtomicFile.write(set, to: URL(fileURLWithPath: out))
                    Output.line("Wrote the revocation set of CA \(ca)'s newest CRL to \(out)")
                }
            }
        }
    }

    struct TestSet: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "test-set",
            abstract: "Make a TEST-ONLY Matter PAA, PAI and DACs in DIR (store/, dacs/THING/, README.txt), with a test vendor ID.")

        @Option(help: ArgumentHelp("The folder to make (it must not hold a store).", valueName: "DIR"))
        var out: String

        @Option(help: ArgumentHelp("Test vendor ID, FFF1 to FFF4.", valueName: "VID"))
        var vid = "FFF1"

        @Option(help: ArgumentHelp("Product ID of the PAI and its DACs.", valueName: "PID"))
        var pid = "8000"

        @Option(help: "How many DACs to issue.")
        var count = 1

        func run() throws {
            try Output.run {
                let result = try MatterTestSet.make(in: URL(fileURLWithPath: out), vendorID: try MatterID(vid, kind: "vendor ID"),
                                                    productID: try MatterID(pid, kind: "product ID"), count: count)
                Output.line("TEST ONLY: Matter test PAA and PAI in \(result.store.path) (keys unencrypted), \(result.bundles.count) DAC bundle(s) in \(out)/dacs")
            }
        }
    }
}
