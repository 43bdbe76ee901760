import Foundation
import Testing

/// The library is shared by two front ends (the CLI, the coming service): its messages name no
/// command-line flag or command, and it reads no environment, terminal or argv (issue 11).
@Suite struct LibraryBoundaryTests {
    static let library = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Sources/IoTCAKit").standardizedFileURL

    /// Each Swift source line of the library that is code (not a comment), with its file.
    static func codeLines() throws -> [(file: String, line: String)] {
        let files = FileManager.default.enumerator(atPath: library.path)?.compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") } ?? []
        #expect(files.count > 50, "the library sources were not found at \(library.path)")
        return try files.flatMap { file in
            try String(contentsOf: library.appendingPathComponent(file), encoding: .utf8).split(separator: "\n")
                .map(String.init).filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("//") }.map { (file, $0) }
        }
    }

    @Test func noLibraryStringNamesACommandLineFlagOrCommand() throws {
        let offending = try Self.codeLines().filter { _, line in
            // The AWS CLI commands `aws export` writes into README.txt carry AWS's flags, not iotca's.
            if line.contains("plan.commands.append(") || line.contains("\"for f in ") { return false }
            // String literals only: what a message could carry.
            let quoted = line.split(separator: "\"", omittingEmptySubsequences: false).enumerated().filter { $0.offset % 2 == 1 }.map(\.element)
            return quoted.contains { text in
                text.range(of: #"(^|\s)--[a-z]"#, options: .regularExpression) != nil || text.contains("`iotca ")
                    // The environment the CLI reads (generated C's IOTCA_PIN_COUNT, IOTCA_TRUST_* are not).
                    || text.range(of: #"IOTCA_(STORE|PASSPHRASE|BUNDLE_PASSPHRASE|CLIENT_CERT|CLIENT_KEY|NODE_DIR|PKCS11|SERVER|SERVER_CA|BUNDLES)\b"#,
                                  options: .regularExpression) != nil
            }
        }
        #expect(offending.isEmpty, "\(offending.map { "\($0.file): \($0.line.trimmingCharacters(in: .whitespaces))" }.joined(separator: "\n"))")
    }

    @Test func theLibraryReadsNoEnvironmentTerminalOrArguments() throws {
        let offending = try Self.codeLines().filter { _, line in
            ["ProcessInfo.processInfo.environment", "getenv(", "isatty(", "getpass(", "CommandLine.", "readLine(", "FileHandle.standardInput"]
                .contains { line.contains($0) }
        }
        #expect(offending.isEmpty, "\(offending.map { "\($0.file): \($0.line)" })")
    }
}
