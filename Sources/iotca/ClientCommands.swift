import ArgumentParser
import Foundation
import IoTCAKit

/// `station create|grant` and `operator create`: the service's clients.
struct StationCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "station", abstract: "Factory stations: clients of `iotca serve` that issue within their grants.",
        subcommands: [Create.self, Grant.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Issue a station's client bundle (cert.pem, key.pem, chain.pem, root.pem) and record its grants.")
        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The station's name.") var name: String
        @Option(name: .customLong("grant"), help: ArgumentHelp("What it may issue: TEMPLATE, or TEMPLATE:PATTERN with * and ? (repeatable).", valueName: "TEMPLATE[:PATTERN]"))
        var grants: [String] = []
        @Option(help: ArgumentHelp("The CA that issues the client certificate (the service's own).", valueName: "CA")) var ca = ServiceHierarchy.caName
        @Option(help: ArgumentHelp("Folder for the bundle (written to DIR/NAME/).", valueName: "DIR")) var out = "clients"

        func run() throws {
            try Output.run {
                guard !grants.isEmpty else { throw ValidationError("give at least one --grant TEMPLATE[:PATTERN]") }
                let parsed = try grants.map { text throws(PolicyError) in try ClientGrant(parsing: text) }
                let result = try storeOptions.authority().createClient(name, role: .station, grants: parsed, ca: ca,
                                                                       into: URL(fileURLWithPath: out))
                try ClientReport.print(result, role: .station, grants: parsed, json: output.json)
            }
        }
    }

    struct Grant: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Replace a station's grants (takes effect on its next request).")
        @OptionGroup var storeOptions: StoreOptions
        @Argument(help: "The station's name.") var name: String
        @Option(name: .customLong("grant"), help: ArgumentHelp("TEMPLATE or TEMPLATE:PATTERN (repeatable; none leaves it nothing).", valueName: "TEMPLATE[:PATTERN]"))
        var grants: [String] = []

        func run() throws {
            try Output.run {
                let parsed = try grants.map { text throws(PolicyError) in try ClientGrant(parsing: text) }
                try storeOptions.authority().setGrants(parsed, of: name)
                Output.line("Station \(name) may issue: \(parsed.isEmpty ? "nothing" : parsed.map(\.description).joined(separator: ", "))")
            }
        }
    }
}

struct OperatorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "operator", abstract: "Operators: clients of `iotca serve` that may do everything, revocation included.",
        subcommands: [Create.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Issue an operator's client bundle (cert.pem, key.pem, chain.pem, root.pem).")
        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The operator's name.") var name: String
        @Option(help: ArgumentHelp("The CA that issues the client certificate (the service's own).", valueName: "CA")) var ca = ServiceHierarchy.caName
        @Option(help: ArgumentHelp("Folder for the bundle (written to DIR/NAME/).", valueName: "DIR")) var out = "clients"

        func run() throws {
            try Output.run {
                let result = try storeOptions.authority().createClient(name, role: .operator, grants: [], ca: ca, into: URL(fileURLWithPath: out))
                try ClientReport.print(result, role: .operator, grants: [], json: output.json)
            }
        }
    }
}

enum ClientReport {
    static func print(_ result: IssueResult, role: ClientRole, grants: [ClientGrant], json: Bool) throws {
        if json {
            struct Report: Encodable {
                let role: ClientRole
                let bundle: String
                let serial: String
                let grants: [String]
            }
            return try Output.json(Report(role: role, bundle: result.folder.path, serial: result.entry.serial.hex,
                                          grants: grants.map(\.description)))
        }
        Output.line("Created \(role.rawValue) \(result.entry.thing ?? ""): serial \(result.entry.serial.hex), valid until \(Output.date(result.entry.notAfter))")
        Output.line("Bundle: \(result.folder.path)/ (cert.pem, key.pem, chain.pem, root.pem)")
        if role == .station { Output.line("Grants: \(grants.map(\.description).joined(separator: ", "))") }
    }
}
