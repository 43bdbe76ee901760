import Foundation

/// Where the CA passphrase comes from, in order: `--passphrase-file`, `IOTCA_PASSPHRASE`, a
/// prompt on the terminal. Never a command-line value (it would show in the process list).
/// Without any of them and no terminal, it fails at once instead of hanging a factory script.
public struct PassphraseSource: Sendable {
    public static let environmentVariable = "IOTCA_PASSPHRASE"
    /// For PKCS#12 bundles (`iotca issue --format p12`).
    public static let bundleEnvironmentVariable = "IOTCA_BUNDLE_PASSPHRASE"

    public var file: String?
    public var environment: [String: String]
    public var interactive: Bool
    public var variable: String
    /// What the prompt and the errors call this passphrase.
    public var purpose: String

    public init(file: String?, environment: [String: String] = ProcessInfo.processInfo.environment,
                interactive: Bool = isatty(STDIN_FILENO) == 1, variable: String = environmentVariable,
                purpose: String = "CA passphrase") {
        self.file = file
        self.environment = environment
        self.interactive = interactive
        self.variable = variable
        self.purpose = purpose
    }

    /// A fixed passphrase, for tests and benchmarks.
    public static func fixed(_ passphrase: Passphrase?) -> PassphraseSource {
        var source = PassphraseSource(file: nil, environment: [:], interactive: false)
        source.fixed = passphrase
        return source
    }

    private var fixed: Passphrase?

    /// `confirm` asks twice on a terminal, for a new passphrase.
    public func passphrase(confirm: Bool = false) throws(KeyError) -> Passphrase {
        if let fixed { return fixed }
        let passphrase: Passphrase
        if let file {
            do {
                passphrase = Passphrase(fileContents: try String(contentsOfFile: file, encoding: .utf8))
            } catch {
                throw .unreadablePassphraseFile(path: file, detail: (error as NSError).localizedDescription)
            }
        } else if let value = environment[variable], !value.isEmpty {
            passphrase = Passphrase(value)
        } else if interactive {
            passphrase = try Self.prompt("\(purpose.prefix(1).uppercased() + purpose.dropFirst()): ")
            if confirm, try !Self.prompt("Repeat the \(purpose): ").isEqual(to: passphrase) {
                throw .passphraseMismatch
            }
        } else {
            throw .noPassphraseSource
        }
        guard !passphrase.isEmpty else { throw .emptyPassphrase }
        guard !passphrase.containsNUL else { throw .passphraseContainsNUL }
        return passphrase
    }

    /// The passphrase when a file, the variable or a terminal can give one; nil otherwise, for
    /// callers that report the absence in their own words.
    public func passphraseIfAvailable() throws(KeyError) -> Passphrase? {
        guard fixed != nil || file != nil || !(environment[variable] ?? "").isEmpty || interactive else { return nil }
        return try passphrase()
    }

    private static func prompt(_ text: String) throws(KeyError) -> Passphrase {
        // getpass reads from /dev/tty with echo off.
        guard let entered = getpass(text) else { throw .noPassphraseSource }
        defer { explicit_bzero(entered, strlen(entered)) }
        return Passphrase(String(cString: entered))
    }
}
