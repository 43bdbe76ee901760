/// A CA passphrase. Its description is redacted so it can never leak into logs, errors or
/// `--json` output by accident.
public struct Passphrase: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    let bytes: [UInt8]

    public init(_ text: String) { self.bytes = Array(text.utf8) }

    /// Reads a passphrase file the way `openssl -passin file:` does: the first line, without
    /// its line ending.
    public init(fileContents: String) {
        // "\r\n" is one Character in Swift, and isNewline covers it as well as "\n".
        self.init(String(fileContents.prefix { !$0.isNewline }))
    }

    public var isEmpty: Bool { bytes.isEmpty }
    public var description: String { "<redacted passphrase>" }
    public var debugDescription: String { description }
}
