import ArgumentParser
import Foundation
import IoTCAKit

struct StoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store", abstract: "Move a store between engines; give a store's free space back.", subcommands: [Migrate.self, Compact.self])

    struct Compact: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Give the pages of deleted rows back to the file system (SQLite's VACUUM).",
            discussion: """
                After an upgrade that rebuilt a table (schema v12 rebuilds the certificates) the file keeps the old \
                pages as free space, which new rows reuse. This copies the database without them. It holds the \
                store's write lock while it runs (about as long as writing the file anew) and needs free disk \
                for a second copy. A PostgreSQL store reclaims space itself: nothing to do there.
                """)

        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            try Output.run {
                let sizes = try storeOptions.authority().store.compact()
                if output.json {
                    struct Report: Encodable { let bytes_before: Int64?; let bytes_after: Int64? }
                    try Output.json(Report(bytes_before: sizes?.before, bytes_after: sizes?.after))
                } else if let sizes {
                    Output.line(String(format: "Compacted: %.1f MB -> %.1f MB", Double(sizes.before) / 1e6, Double(sizes.after) / 1e6))
                } else {
                    Output.line("Nothing to do: PostgreSQL reclaims space itself (autovacuum).")
                }
            }
        }
    }

    struct Migrate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy a folder store into an empty PostgreSQL database, in one transaction, and verify the copy.",
            discussion: """
                Every row keeps its id, so the audit chain and its checkpoints stay valid; encrypted key files and \
                templates go into the database. Both stores are then examined as `doctor` does and compared \
                (counts and the audit chain's head). Exit code 0 when they agree, 3 when they do not or the copy \
                failed (then nothing was written). Keys must be encrypted first (`passphrase change`).
                """)

        @Option(help: ArgumentHelp("The folder store to copy (it is only read).", valueName: "DIR"))
        var from: String
        @Option(help: ArgumentHelp("The empty database: postgres://USER@HOST[:PORT]/DB[?sslmode=MODE].", valueName: "URL"))
        var to: String
        @Option(help: ArgumentHelp("The database password, from the first line of FILE (else the URL, $PGPASSWORD, ~/.pgpass).", valueName: "FILE"))
        var dbPasswordFile: String?
        @Option(help: ArgumentHelp("This node's folder, where the public files are copied (default: $IOTCA_NODE_DIR, else ./iotca-node).", valueName: "DIR"))
        var nodeDir: String?
        @OptionGroup var output: OutputOptions

        func run() throws {
            try Output.run {
                let environment = ProcessInfo.processInfo.environment
                let target = try StoreLocation(to, passwordFile: dbPasswordFile, nodeFolder: nodeDir ?? environment["IOTCA_NODE_DIR"],
                                               environment: environment)
                // For the crash tests only: stop dead (SIGKILL) at a named step.
                let killAt = environment["IOTCA_TEST_KILL_AT"]
                let report = try StoreMigration.migrate(from: URL(fileURLWithPath: from), to: target) { step in
                    if step.rawValue == killAt { kill(getpid(), SIGKILL) }
                }
                if output.json {
                    try Output.json(report)
                } else {
                    Output.line("Copied \(report.from) to \(report.to): " + report.rows.sorted(by: { $0.key < $1.key })
                        .map { "\($0.value) \($0.key)" }.joined(separator: ", ") + ", \(report.files) files")
                    for (name, side, digest) in [("source", report.source, report.sourceDigest), ("copy", report.copy, report.copyDigest)] {
                        let counts = side.map { "\($0.authorities) CAs, \($0.things) things, \($0.certificates) certificates, \($0.crls) CRLs, \($0.events) events, head \($0.head ?? "-"), " } ?? ""
                        Output.line("  \(name): \(counts)digest \(digest)")
                    }
                    Output.line(report.verified ? "Verified: the copy matches." : "NOT verified: the copy differs (see above); the source is untouched.")
                }
                if !report.verified { throw ExitCode(ExitStatus.store.rawValue) }
            }
        }
    }
}
