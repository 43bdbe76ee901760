/// A CA passphrase. Its description is redacted so it can never leak into logs, errors or
/// `--json` output by accident.
/// Its bytes are zeroed when the last copy of the value goes.
public struct Passphrase: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    let secret: SecretBytes
    /// A copy of its own (not zeroed): the stored bytes are cleared when the last Passphrase
    /// goes, which must not pull them from under a caller still reading them.
    var bytes: [UInt8] { secret.bytes.map { $0 } }

    /// Compares without copying the secret out.
    func isEqual(to other: Passphrase) -> Bool { secret.bytes == other.secret.bytes }

    public init(_ text: String) { secret = SecretBytes(Array(text.utf8)) }

    /// Reads a passphrase file the way `openssl -passin file:` does: the first line, without
    /// its line ending.
    public init(fileContents: String) {
        // "\r\n" is one Character in Swift, and isNewline covers it as well as "\n".
        self.init(String(fileContents.prefix { !$0.isNewline }))
    }

    public var isEmpty: Bool { bytes.isEmpty }
    /// OpenSSL takes passphrases as C strings: a NUL would cut it short on the way back in, so
    /// a key encrypted with it could never be opened again. Refused wherever one enters.
    public var containsNUL: Bool { bytes.contains(0) }
    public var description: String { "<redacted passphrase>" }
    public var debugDescription: String { description }
}
