import ArgumentParser
import Foundation
import IoTCAKit

/// `iotca enrol-token THING`: the one-time secret a device enrols with over EST or CMP.
struct EnrolTokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enrol-token",
        abstract: "Make a one-time secret for a thing to enrol with over EST or CMP (printed once).",
        discussion: "A CMP MAC needs the secret at both ends, so the store keeps it until it is spent or replaced; with --est-only only its hash is kept.")

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: OutputOptions
    @Argument(help: "The thing that will enrol (its certificate's name).") var thing: String
    @Option(help: ArgumentHelp("The template it enrols with.", valueName: "NAME")) var template = "device"
    @Option(help: ArgumentHelp("How long the secret is good for (default 7d).", valueName: "DURATION")) var expires: ValidityPeriod?
    @Flag(help: "Keep only the secret's hash: the token enrols over EST, not CMP.") var estOnly = false

    func run() throws {
        try Output.run {
            let token = try storeOptions.authority().createEnrolmentToken(thing: thing, template: template, expires: expires, cmp: !estOnly)
            if output.json { return try Output.json(token) }
            // The secret alone on stdout, for scripts; what it is for on stderr.
            Output.line(token.secret)
            FileHandle.standardError.write(Data("enrolment token for \(token.thing) (template \(token.template)), one use, until \(Timestamp.format(token.expiresAt))\n".utf8))
        }
    }
}

/// `iotca claim create NAME --grant TEMPLATE:PATTERN`: a claim certificate for a batch of devices.
struct ClaimCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "claim", abstract: "Claim certificates: shared by a batch of devices, they may only enrol them over EST or CMP.",
        subcommands: [Create.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Issue a claim bundle (cert.pem, key.pem, chain.pem, root.pem) that may enrol the things its grants cover.")
        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The claim's name (a batch, a production run).") var name: String
        @Option(name: .customLong("grant"), help: ArgumentHelp("What it may enrol: TEMPLATE or TEMPLATE:PATTERN with * and ? (repeatable).", valueName: "TEMPLATE[:PATTERN]"))
        var grants: [String] = []
        @Option(help: ArgumentHelp("The CA that issues the claim certificate (the service's own).", valueName: "CA")) var ca = ServiceHierarchy.caName
        @Option(help: ArgumentHelp("Folder for the bundle (written to DIR/NAME/).", valueName: "DIR")) var out = "clients"

        func run() throws {
            try Output.run {
                let parsed = try grants.map { text throws(PolicyError) in try ClientGrant(parsing: text) }
                let result = try storeOptions.authority().createClaim(name, grants: parsed, ca: ca, into: URL(fileURLWithPath: out))
                if output.json {
                    struct Report: Encodable { let bundle: String, serial: String, grants: [String] }
                    return try Output.json(Report(bundle: result.folder.path, serial: result.entry.serial.hex, grants: parsed.map(\.description)))
                }
                Output.line("Created claim \(name): serial \(result.entry.serial.hex), valid until \(Output.date(result.entry.notAfter))")
                Output.line("Bundle: \(result.folder.path)/ (cert.pem, key.pem, chain.pem, root.pem)")
                Output.line("May enrol: \(parsed.map(\.description).joined(separator: ", "))")
            }
        }
    }
}

/// `iotca thing reopen THING`: a claim may enrol a thing that has had certificates once more.
struct ThingCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "thing", abstract: "What an operator decides about one thing.", subcommands: [Reopen.self])

    struct Reopen: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Let a claim enrol THING once more although it has had certificates (claims enrol only new things), audited.")
        @OptionGroup var storeOptions: StoreOptions
        @Argument(help: "The thing (a device reset in the field, after you looked at why).") var thing: String

        func run() throws {
            try Output.run {
                try storeOptions.authority().reopen(thing: thing)
                Output.line("\(thing) may be enrolled once by a claim whose grants cover it")
            }
        }
    }
}
