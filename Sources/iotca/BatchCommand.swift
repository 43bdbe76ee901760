import ArgumentParser
import Foundation
import IoTCAKit
import IoTCAService

struct BatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "batch",
        abstract: "Provision every thing listed in a CSV or JSON Lines file, in one process on all cores.",
        discussion: """
            CSV needs a header with `thing`, and may have `template`, `csr` (a path relative to FILE) and attribute \
            columns. JSON Lines: one object per line with the same keys. Re-running a file skips things already \
            issued, so an interrupted batch resumes. Exit code 0 when every row was issued or skipped, 5 when a \
            row failed (each is reported with its line number).
            """)

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var serverOptions: ServerOptions
    @OptionGroup var output: OutputOptions

    @Argument(help: ArgumentHelp("The batch file (.csv or .jsonl).", valueName: "FILE"))
    var file: String

    @Option(help: ArgumentHelp("Folder the bundles are written into (for jsonl a file, or - for standard output).", valueName: "DIR"))
    var out = "bundles"

    @Option(help: ArgumentHelp("dir, pem, p12, zip, matter (DER files for Matter factory tools), or jsonl (one JSON object per bundle and line).", valueName: "FORMAT"))
    var format: BundleFormat = .dir

    @Option(help: "Worker threads for key generation, signing and files (default: the number of cores); with --server, requests in flight (default 8).")
    var jobs: Int?

    @Flag(help: "Stop at the first bad row.")
    var failFast = false

    @Option(help: "The issuing CA.")
    var ca = "issuing"

    @Option(help: ArgumentHelp("Template for rows without a template column.", valueName: "NAME|PATH"))
    var template = "device"

    @Option(name: .customLong("allow-template"), parsing: .singleValue,
            help: ArgumentHelp("Another template a row's template column may name (repeatable); rows naming any other are refused.", valueName: "NAME"))
    var allowedTemplates: [String] = []

    @Option(help: ArgumentHelp("PKCS#12 passphrase from the first line of FILE (else $IOTCA_BUNDLE_PASSPHRASE).", valueName: "FILE"))
    var bundlePassphraseFile: String?

    @OptionGroup var certificationDeclaration: CertificationDeclarationOption

    func validate() throws {
        if format == .json { throw ValidationError("batch writes files: use dir, pem, p12, zip, matter or jsonl") }
        if out == "-" && format != .jsonl { throw ValidationError("--out - (standard output) is for --format jsonl") }
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1") }
    }

    func run() async throws {
        try await Output.run {
            var options = BatchOptions()
            options.authority = ca
            options.template = template
            options.allowedTemplates = Set(allowedTemplates)
            options.format = format
            options.jobs = jobs ?? ProcessInfo.processInfo.activeProcessorCount
            options.failFast = failFast
            options.certificationDeclaration = try certificationDeclaration.bytes()
            if format == .p12 {
                options.bundlePassphrase = try TerminalPrompt.source(
                    file: bundlePassphraseFile, variable: TerminalPrompt.bundlePassphraseVariable, purpose: "bundle passphrase"
                ).passphraseIfAvailable()
            }
            let bar = ProgressBar(enabled: isatty(STDERR_FILENO) == 1)
            // jsonl on standard output: the lines are the output, the summary goes to stderr.
            let target = out == "-" ? JSONLinesOutput.standardOutput : URL(fileURLWithPath: out)
            let chosen = options
            let report = try await serverOptions.run(remote: { client in
                try await RemoteProvisioner(client: client).batch(URL(fileURLWithPath: file), into: target, options: chosen,
                                                                  jobs: jobs ?? 8, progress: { done, total in bar.update(done, total) })
            }, local: {
                try storeOptions.authority().batch(URL(fileURLWithPath: file), into: target, options: chosen,
                                                   progress: bar.update)
            })
            bar.finish()
            if output.json {
                try Output.json(report)
            } else {
                for failure in report.failures {
                    let advice = failure.cause.flatMap(Advice.text(for:)).map { ": \($0)" } ?? ""
                    FileHandle.standardError.write(Data("iotca: \(failure.message(file: file))\(advice)\n".utf8))
                }
                let summary = String(format: "%d rows: %d issued, %d skipped, %d recovered, %d failed in %.2f s (%.0f bundles/s)",
                                     report.total, report.issued, report.skipped, report.recovered, report.failed,
                                     report.seconds, report.rate)
                if out == "-" { FileHandle.standardError.write(Data((summary + "\n").utf8)) } else { Output.line(summary) }
            }
            if report.failed > 0 { throw ExitCode(ExitStatus.rejected.rawValue) }
        }
    }
}

/// A one-line progress bar on stderr, only when stderr is a terminal.
final class ProgressBar: @unchecked Sendable {
    let enabled: Bool
    // Only touched from one task at a time: the batch reports progress serially.
    private var last = Date.distantPast

    init(enabled: Bool) { self.enabled = enabled }

    func update(_ done: Int, _ total: Int) {
        guard enabled, total > 0, Date().timeIntervalSince(last) > 0.1 || done == total else { return }
        last = Date()
        let width = 40, filled = width * done / total
        let line = "\r[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "] \(done)/\(total)"
        FileHandle.standardError.write(Data(line.utf8))
    }

    func finish() {
        if enabled { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
