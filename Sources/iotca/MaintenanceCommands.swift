import ArgumentParser
import Foundation
import IoTCAKit

struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check the store: certificates against their DER and CA signatures, CRLs, the audit hash chain, file modes, bundles.",
        discussion: "Exit code 0 when nothing is wrong, 3 when something is (each finding on its own line).")

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: OutputOptions

    @Option(help: ArgumentHelp("Also check that every bundle folder here belongs to a recorded certificate.", valueName: "DIR"))
    var bundles: String?

    @Option(help: ArgumentHelp("Check about N certificates picked at random instead of all (a quick look at a huge store); CRLs, the audit log and keys are checked in full.", valueName: "N"))
    var sample: Int?

    func validate() throws {
        if let sample, sample < 1 { throw ValidationError("--sample is a number of certificates, at least 1") }
    }

    func run() throws {
        try Output.run {
            let report = try storeOptions.authority().doctor(bundles: bundles.map { URL(fileURLWithPath: $0) }, sample: sample)
            if output.json {
                try Output.json(report)
            } else {
                for finding in report.findings { Output.line("\(finding.check): \(finding.subject): \(finding.problem)") }
                Output.line("\(report.certificates) certificates, \(report.crls) CRLs, \(report.events) events, \(report.bundles) bundles checked: "
                    + (report.healthy ? "no problems found" : "\(report.findings.count) problems"))
            }
            if !report.healthy { throw ExitCode(ExitStatus.store.rawValue) }
        }
    }
}

struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Report every issued and revoked certificate (like ACM PCA's audit report) and the verified event log.",
        discussion: "csv and jsonl print the certificates (or, with --events, the event log), json prints both; each is written as the store is read. Exit code 3 when the event hash chain is broken.")

    @OptionGroup var storeOptions: StoreOptions

    @Option(help: ArgumentHelp("csv, json or jsonl.", valueName: "FORMAT"))
    var format: AuditStream.Format = .csv

    @Option(help: ArgumentHelp("Only what happened at or after TIME (RFC 3339).", valueName: "TIME"))
    var since: String?

    @Flag(help: "With csv or jsonl: print the event log instead of the certificates.")
    var events = false

    func run() throws {
        try Output.run {
            let time = try since.map { text throws(PolicyError) in try Timestamp.parse(text, option: "--since") }
            let report = try storeOptions.authority().writeAudit(format, events: events, since: time, to: StreamWriter())
            guard report.chainIntact else {
                Output.fail("the audit event hash chain breaks at event \(report.brokenAt ?? 0): the log was altered", status: .store)
            }
            if let problem = report.checkpoints.problems.first {
                Output.fail("the audit log's CA-signed checkpoints do not hold: \(problem)", status: .store)
            }
        }
    }
}

extension AuditStream.Format: ExpressibleByArgument {}
