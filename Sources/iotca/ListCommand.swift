import ArgumentParser
import Foundation
import IoTCAKit
import IoTCAService

struct ListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the certificates issued to things.")

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var serverOptions: ServerOptions
    @OptionGroup var output: OutputOptions

    @Option(help: "Only this thing's certificates.")
    var thing: String?

    @Option(help: ArgumentHelp("active or revoked.", valueName: "STATUS"))
    var status: CertificateEntry.Status?

    @Option(help: "Only certificates issued by this CA.")
    var ca: String?

    @Option(help: "Only certificates of this template.")
    var template: String?

    @Option(help: ArgumentHelp("Only active certificates that expire within DURATION, e.g. 30d.", valueName: "DURATION"))
    var expiringWithin: ValidityPeriod?

    @Option(help: ArgumentHelp("table, json (an array) or jsonl (one object a line); --json is json.", valueName: "FORMAT"))
    var format: RecordFormat?

    func run() async throws {
        try await Output.run {
            var filter = CertificateFilter(thing: thing, status: status, authority: ca, template: template)
            if let expiringWithin {
                filter.expiringBefore = Date().addingTimeInterval(expiringWithin.timeInterval)
                filter.status = status ?? .active
            }
            let chosen = filter
            // Rows are printed as the store (or the server's pages) yields them.
            let writer = RecordWriter<CertificateEntry>(
                format ?? (output.json ? .json : .table), to: StreamWriter(),
                header: ["SERIAL", "THING", "CA", "STATUS", "NOT AFTER", "TEMPLATE"],
                cells: { [$0.serial.hex, $0.thing ?? "-", $0.authority, $0.status.rawValue, Output.date($0.notAfter), $0.template] })
            try await serverOptions.run(remote: { try await $0.forEachCertificate(chosen, writer.add) },
                                        local: { try storeOptions.authority().forEachCertificate(chosen, writer.add) })
            try writer.finish()
        }
    }
}

extension RecordFormat: ExpressibleByArgument {}
extension CertificateEntry.Status: ExpressibleByArgument {}

struct ShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Show one certificate, by serial (hex) or by thing (its newest).")

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var serverOptions: ServerOptions
    @OptionGroup var output: OutputOptions

    @Argument(help: ArgumentHelp("A serial number in hex, or a thing name.", valueName: "SERIAL|THING"))
    var selector: String

    @Flag(help: "Print the certificate in PEM only.")
    var pem = false

    func run() async throws {
        try await Output.run {
            let entry = try await serverOptions.run(remote: { try await $0.certificate(matching: selector) },
                                                    local: { try storeOptions.authority().certificate(matching: selector) })
            if pem { return print(entry.pem, terminator: "") }
            if output.json { return try Output.json(entry) }
            let fields: [(String, String)] = [
                ("serial", entry.serial.hex), ("thing", entry.thing ?? "-"), ("ca", entry.authority),
                ("template", entry.template), ("subject", entry.subject),
                ("subject alt names", entry.subjectAltNames.joined(separator: ", ")),
                ("key type", entry.keyAlgorithm.rawValue), ("not before", Output.date(entry.notBefore)),
                ("not after", Output.date(entry.notAfter)), ("status", entry.status.rawValue),
                ("certificate sha256", entry.fingerprintSHA256), ("spki sha256", entry.spkiSHA256),
            ]
            for (name, value) in fields { Output.line("\(name.padding(toLength: 19, withPad: " ", startingAt: 0)) \(value)") }
        }
    }
}
