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

    @Option(help: ArgumentHelp("A server thing whose own key to pin, with its prepared next key as the backup (repeatable).", valueName: "THING"))
    var thing: [String] = []

    @Option(help: ArgumentHelp("text, json, c, curl or hpkp.", valueName: "FORMAT"))
    var format: PinSet.Format = .text

    @Flag(help: "Same as --format json.")
    var json = false

    func run() async throws {
        try await Output.run {
            let pins: [Pin]
            if thing.isEmpty {
                pins = try await serverOptions.run(remote: { try await $0.pins(of: ca) }, local: { try storeOptions.authority().pins(of: ca) })
            } else {
                // A server's own pins come from the store that issued it (they are not served).
                if try serverOptions.settings() != nil {
                    throw ValidationError("--thing reads the store that issued the server's certificate: run it there, without --server")
                }
                let authority = try storeOptions.authority()
                pins = try (ca.isEmpty ? [] : authority.pins(of: ca)) + thing.flatMap { try authority.pins(ofThing: $0) }
            }
            print(try PinSet.render(pins, as: json ? .json : format), terminator: "")
        }
    }
}

extension PinSet.Format: ExpressibleByArgument {}
