import ArgumentParser
import Foundation
import IoTCAKit

/// Options every command that touches a store takes.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The store folder (default: $IOTCA_STORE, else ./ca-store).", valueName: "DIR"))
    var store: String?

    @Option(name: .long, help: ArgumentHelp("Read the CA passphrase from the first line of FILE.", valueName: "FILE"))
    var passphraseFile: String?

    var storeURL: URL {
        let path = store ?? ProcessInfo.processInfo.environment["IOTCA_STORE"].flatMap { $0.isEmpty ? nil : $0 } ?? "ca-store"
        return URL(fileURLWithPath: path)
    }

    var passphraseSource: PassphraseSource { TerminalPrompt.source(file: passphraseFile) }

    /// The library's front door on this store: every command goes through it.
    func authority() throws -> CertificateAuthority {
        try CertificateAuthority(store: storeURL, passphrase: passphraseSource)
    }
}

struct OutputOptions: ParsableArguments {
    @Flag(name: .long, help: "Print JSON for scripts instead of text.")
    var json = false
}
