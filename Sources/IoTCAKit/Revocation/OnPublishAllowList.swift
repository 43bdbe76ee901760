import Foundation

/// The on-publish commands this node agrees to run, for a store shared in a database: there the
/// command is a row that any database writer could change, and every node that publishes a CRL
/// would run it. So a node runs only the commands listed in its own folder's
/// `on-publish.allow` (one command a line, compared whole), which only someone with a shell on
/// that machine can write. A store in a folder keeps its database beside the keys, on the one
/// machine: there the row is as trusted as the folder.
public struct OnPublishAllowList: Sendable {
    public let file: URL

    public init(nodeFolder: URL) {
        file = nodeFolder.appendingPathComponent("on-publish.allow")
    }

    /// The listed commands; none when the file does not exist.
    public func commands() -> [String] {
        guard let text = try? String(contentsOf: file, encoding: .utf8) else { return [] }
        return text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
    }

    public func allows(_ command: String) -> Bool { commands().contains(command) }

    /// Adds `command` (broker-config, run on this node, sets one up).
    /// - Throws: `OutputError` when the file cannot be written.
    public func add(_ command: String) throws {
        var listed = commands()
        guard !listed.contains(command) else { return }
        guard !command.contains("\n") else {
            throw OutputError.writeFailed(path: file.path, detail: "a command of several lines cannot be listed")
        }
        listed.append(command)
        try AtomicFile.write(Array((listed.joined(separator: "\n") + "\n").utf8), to: file, mode: 0o600)
    }
}
