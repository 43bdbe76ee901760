import ArgumentParser
import Foundation
import IoTCAKit
import IoTCAService

struct PinsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pins",
        abstract: "Print the SPKI SHA-256 pins and fingerprints of the CAs, and the standby root keys' backup pins.",
        discussion: "Formats: text, json, c (a header firmware compiles in), curl (for --pinnedpubkey), hpkp.")

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var serverOptions: ServerOptions

    @Option(help: ArgumentHelp("A CA whose chain to pin (repeatable; default: every CA).", valueName: "NAME"))
    var ca: [String] = []

    @Option(help: ArgumentHelp("text, json, c, curl or hpkp.", valueName: "FORMAT"))
    var format: PinSet.Format = .text

    @Flag(help: "Same as --format json.")
    var json = false

    func run() async throws {
        try await Output.run {
            let pins = try await serverOptions.run(remote: { try await $0.pins(of: ca) }, local: { try storeOptions.authority().pins(of: ca) })
            print(try PinSet.render(pins, as: json ? .json : format), terminator: "")
        }
    }
}

extension PinSet.Format: ExpressibleByArgument {}
