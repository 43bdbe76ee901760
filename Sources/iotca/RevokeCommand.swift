import ArgumentParser
import Foundation
import IoTCAKit
import IoTCAService

struct RevokeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke",
        abstract: "Revoke a certificate (by serial) or a thing's active certificates, and publish the issuer's CRL.")

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var serverOptions: ServerOptions
    @OptionGroup var output: OutputOptions

    @Argument(help: ArgumentHelp("The serial number (hex) of the certificate to revoke.", valueName: "SERIAL"))
    var serial: String?

    @Option(help: "Revoke every active certificate of this thing.")
    var thing: String?

    @Option(help: ArgumentHelp("The CA that issued SERIAL, when several did.", valueName: "NAME"))
    var ca: String?

    @Option(help: ArgumentHelp("RFC 5280 reason: \(RevocationReason.namesForHelp).", valueName: "REASON"))
    var reason = "unspecified"

    @Option(help: ArgumentHelp("When the key is known or suspected to have been compromised (RFC 3339, e.g. 2026-11-20T08:00:00Z).", valueName: "TIME"))
    var invalidityDate: String?

    func validate() throws {
        guard (serial == nil) != (thing == nil) else { throw ValidationError("give either SERIAL or --thing THING") }
    }

    func run() async throws {
        try await Output.run {
            guard let reason = RevocationReason(rawValue: reason) else { throw RevocationError.invalidReason(self.reason) }
            let invalidity = try invalidityDate.map { text throws(PolicyError) in try Timestamp.parse(text, option: "--invalidity-date") }
            let target: RevocationTarget
            if let serial {
                guard let parsed = SerialNumber(hex: serial) else { throw CertificateNotFound(selector: serial) }
                target = .serial(parsed, authority: ca)
            } else {
                target = .thing(thing ?? "")
            }
            let outcome = try await serverOptions.run(remote: { client in
                let answer = try await client.revoke(target, reason: reason, invalidityDate: invalidity)
                return RevocationService.Outcome(revoked: answer.revoked, published: answer.published)
            }, local: {
                try storeOptions.authority().revoke(target, reason: reason, invalidityDate: invalidity)
            })
            if output.json {
                struct Report: Encodable { let revoked: [CertificateEntry]; let crls: [CRLRecord] }
                return try Output.json(Report(revoked: outcome.revoked, crls: outcome.published))
            }
            for entry in outcome.revoked {
                Output.line("Revoked \(entry.serial.hex) (\(entry.thing ?? entry.subjectAuthority ?? "-"), CA \(entry.authority)): \(reason.rawValue)")
            }
            for crl in outcome.published {
                Output.line("Published CRL \(crl.number) of \(crl.authority): \(crl.entries) entries, next update \(Output.date(crl.nextUpdate))")
            }
        }
    }
}

struct CRLCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crl", abstract: "Publish and show certificate revocation lists.",
        subcommands: [Publish.self, Show.self])

    struct Publish: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Generate CRLs into STORE/public/NAME.crl (DER) and NAME.crl.pem.",
            discussion: "Without --ca, every CA publishes. For cron: `iotca crl publish --if-due`.")

        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var output: OutputOptions

        @Option(help: ArgumentHelp("Only this CA (repeatable).", valueName: "NAME"))
        var ca: [String] = []

        @Flag(help: "Every CA (the default when no --ca is given).")
        var all = false

        @Flag(help: "Only regenerate a CRL past half its validity or with revocations it does not list yet.")
        var ifDue = false

        func validate() throws {
            if all && !ca.isEmpty { throw ValidationError("--all and --ca exclude each other") }
        }

        func run() throws {
            try Output.run {
                let authority = try storeOptions.authority()
                let published = try authority.publishCRLs(of: ca, ifDue: ifDue)
                if output.json { return try Output.json(published) }
                if published.isEmpty { Output.line("All CRLs are current; nothing published.") }
                for crl in published {
                    Output.line("Published CRL \(crl.number) of \(crl.authority): \(crl.entries) entries, next update \(Output.date(crl.nextUpdate)) -> \(authority.crlFiles(of: crl.authority).der.path)")
                }
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the latest CRL of each CA (or of --ca) and what it lists.")

        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var output: OutputOptions

        @Option(help: ArgumentHelp("Only this CA.", valueName: "NAME"))
        var ca: String?

        func run() throws {
            try Output.run {
                let reports = try storeOptions.authority().crlStatus(of: ca)
                if output.json { return try Output.json(reports) }
                for report in reports {
                    if let crl = report.crl {
                        Output.line("\(report.ca): CRL \(crl.number), this update \(Output.date(crl.thisUpdate)), next update \(Output.date(crl.nextUpdate)), \(crl.entries) entries")
                    } else {
                        Output.line("\(report.ca): no CRL published yet")
                    }
                    for entry in report.revoked {
                        Output.line("  \(entry.serial)  \(Output.date(entry.revokedAt))  \(entry.reason)  \(entry.thing ?? "")")
                    }
                }
            }
        }
    }
}
