import ArgumentParser
import Foundation
import IoTCAKit

/// `ca rotate-root`, `ca verification-cert`, `ca disable`, `ca enable`, `ca move-key`: a CA's
/// key and standing.
extension CACommand {
    struct RotateRoot: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate-root",
            abstract: "Certify the standby root key as a new root (root-2, ...) and make the next standby key.",
            discussion: "Firmware that pinned the standby key's backup pin trusts the new root at once. Then create CAs under it, e.g. `iotca ca create issuing-2 --parent root-2`.")

        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var output: OutputOptions

        @Option(help: ArgumentHelp("Validity of the new root (default from the root-ca template: 20y).", valueName: "DURATION"))
        var validity: ValidityPeriod?

        func run() throws {
            try Output.run {
                let (root, standby) = try storeOptions.authority().rotateRoot(validity: validity)
                if output.json {
                    struct Report: Encodable { let root: Authority; let standby_key: String; let standby_spki_sha256_hex: String }
                    return try Output.json(Report(root: root, standby_key: standby.name, standby_spki_sha256_hex: standby.spkiSHA256))
                }
                Output.line("Created root \(root.name): \(root.subject) until \(Output.date(root.notAfter))")
                Output.line("Next root: \(standby.name), certified in advance (`iotca trust-store` puts it in firmware, `iotca pins` has its backup pin)")
            }
        }
    }

    struct PrepareRoot: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "prepare-root",
            abstract: "Certify the standby root key now, so firmware can trust the next root before the rotation.",
            discussion: "Stores made by `init` already have it; run this once on an older store. A certificate made before is kept.")

        @OptionGroup var storeOptions: StoreOptions

        func run() throws {
            try Output.run {
                for standby in try storeOptions.authority().prepareNextRoots() {
                    Output.line("Next root \(standby.name): certificate sha256 \(standby.certificateSHA256Hex ?? "") (see `iotca trust-store`)")
                }
            }
        }
    }

    struct VerificationCert: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verification-cert",
            abstract: "Write the verification certificate AWS IoT's RegisterCACertificate asks for (CN = the registration code).")

        @OptionGroup var storeOptions: StoreOptions
        @Option(help: "The CA to register with AWS IoT.") var ca = "issuing"
        @Option(help: ArgumentHelp("The code from `aws iot get-registration-code`.", valueName: "REGISTRATION_CODE")) var code: String
        @Option(help: ArgumentHelp("Where to write the certificate (PEM).", valueName: "FILE")) var out: String

        func run() throws {
            try Output.run {
                let issued = try storeOptions.authority().verificationCertificate(ca: ca, registrationCode: code)
                try AtomicFile.write(issued.pem, to: URL(fileURLWithPath: out))
                Output.line("Wrote \(out): CN=\(code), signed by \(ca), serial \(issued.serial.hex)")
            }
        }
    }

    struct Disable: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop a CA from issuing (its certificates stay valid).")
        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var output: OutputOptions
        @Argument var name: String

        func run() throws { try CACommand.setStatus(.disabled, of: name, storeOptions, output) }
    }

    struct Enable: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Let a disabled CA issue again.")
        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var output: OutputOptions
        @Argument var name: String

        func run() throws { try CACommand.setStatus(.active, of: name, storeOptions, output) }
    }

    static func setStatus(_ status: Authority.Status, of name: String, _ storeOptions: StoreOptions, _ output: OutputOptions) throws {
        try Output.run {
            let authority = try storeOptions.authority().setStatus(status, of: name)
            if output.json { return try Output.json(authority) }
            Output.line("CA \(name) is \(authority.status.rawValue)")
        }
    }

    struct MoveKey: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "move-key",
            abstract: "Move a CA's key file into a PKCS#11 token (sensitive, never extractable); the file is deleted after a verified test signature.")

        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The CA.") var name: String
        @Option(name: .customLong("to"), help: ArgumentHelp("The token (RFC 7512), e.g. pkcs11:token=LABEL.", valueName: "URI"))
        var uri: String
        @Option(name: .customLong("pkcs11-module"), help: ArgumentHelp("The token's PKCS#11 library.", valueName: "PATH"))
        var module: String

        func run() throws {
            try Output.run {
                var token = try PKCS11URI(parsing: uri)
                token.modulePath = URL(fileURLWithPath: module).standardizedFileURL.path
                // For the crash tests only: stop dead (SIGKILL) at a named step.
                let killAt = ProcessInfo.processInfo.environment["IOTCA_TEST_KILL_AT"]
                let (authority, location) = try storeOptions.authority().moveKey(of: name, to: token) { step in
                    if step.rawValue == killAt { kill(getpid(), SIGKILL) }
                }
                if output.json { return try Output.json(authority) }
                Output.line("Moved the key of CA \(name) into \(location.withoutModule); its key file is deleted")
            }
        }
    }
}
