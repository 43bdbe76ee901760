import Foundation

/// Where the CA passphrase comes from, in order: a file, a variable of the environment the
/// caller hands in, a prompt the caller supplies (the CLI asks on its terminal). Never a
/// command-line value (it would show in the process list). Without any of them, it fails at
/// once instead of hanging a factory script. The library itself reads no environment and no
/// terminal: the front end passes both in.
public struct PassphraseSource: Sendable {
    /// Asks a person for a passphrase, given the prompt text; nil when nobody can be asked.
    public typealias Prompt = @Sendable (String) throws(KeyError) -> Passphrase

    public var file: String?
    public var environment: [String: String]
    public var prompt: Prompt?
    /// The variable of `environment` that may hold it.
    public var variable: String
    /// What the prompt and the errors call this passphrase.
    public var purpose: String

    public init(file: String?, environment: [String: String], prompt: Prompt?, variable: String,
                purpose: String = "CA passphrase") {
        self.file = file
        self.environment = environment
        self.prompt = prompt
        self.variable = variable
        self.purpose = purpose
    }

    /// Whether a person can be asked.
    public var interactive: Bool { prompt != nil }

    /// A fixed passphrase, for tests and benchmarks.
    public static func fixed(_ passphrase: Passphrase?) -> PassphraseSource {
        var source = PassphraseSource(file: nil, environment: [:], prompt: nil, variable: "")
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
        } else if let prompt {
            passphrase = try prompt("\(purpose.prefix(1).uppercased() + purpose.dropFirst()): ")
            if confirm, try !prompt("Repeat the \(purpose): ").isEqual(to: passphrase) {
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
        guard availableWithoutAsking || interactive else { return nil }
        return try passphrase()
    }

    /// Whether it is given (fixed, a file, the variable), so no person would be asked.
    public var availableWithoutAsking: Bool { fixed != nil || file != nil || !(environment[variable] ?? "").isEmpty }
}
