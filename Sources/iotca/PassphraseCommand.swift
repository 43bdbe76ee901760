import ArgumentParser
import Foundation
import IoTCAKit

struct PassphraseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "passphrase",
        abstract: "Manage the passphrase that protects the store's CA keys.",
        subcommands: [Change.self])

    struct Change: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-encrypt every CA and standby key under a new passphrase (and the current key-file protection).",
            discussion: """
                The current passphrase comes as usual (--passphrase-file, IOTCA_PASSPHRASE, a prompt); the new one from \
                --new-passphrase-file or a prompt asked twice, never from an argument. At every instant each key opens \
                with the old or the new passphrase; a change that was interrupted is finished by running it again. Also \
                upgrades key files whose protection is below the policy (give the same passphrase twice). Stop other \
                iotca processes on the store first: one that opened a key file before the change may not find it after.
                """)

        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var output: OutputOptions

        @Option(help: ArgumentHelp("Read the new passphrase from the first line of FILE.", valueName: "FILE"))
        var newPassphraseFile: String?

        func run() throws {
            try Output.run {
                let authority = try storeOptions.authority()
                let current = try authority.store.setting("keys_encrypted") == "false" ? nil : try storeOptions.passphraseSource.passphrase()
                // Never from the environment: only a file or the terminal.
                let newSource = PassphraseSource(file: newPassphraseFile, environment: [:], prompt: TerminalPrompt.available, variable: "",
                                                 purpose: "new CA passphrase")
                if newPassphraseFile == nil && !newSource.interactive {
                    throw KeyError.noNewPassphraseSource
                }
                let new = try newSource.passphrase(confirm: true)
                // For the crash tests only: stop dead (SIGKILL) at a named step.
                let killAt = ProcessInfo.processInfo.environment["IOTCA_TEST_KILL_AT"]
                let report = try authority.changePassphrase(current: current, new: new) { step in
                    if step.rawValue == killAt { kill(getpid(), SIGKILL) }
                }
                if output.json { return try Output.json(report) }
                Output.line("Re-encrypted \(report.keys) key files (\(report.kdf))"
                    + (report.leftoversRemoved > 0 ? "; removed \(report.leftoversRemoved) left by an interrupted change" : ""))
            }
        }
    }
}
