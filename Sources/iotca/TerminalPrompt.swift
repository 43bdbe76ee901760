import Foundation
import IoTCAKit

/// The CLI's side of passphrases: the environment and, when stdin is a terminal, a prompt with
/// echo off. The library never reads either itself.
enum TerminalPrompt {
    /// The CA passphrase's variable, and the PKCS#12 bundles' one.
    static let passphraseVariable = "IOTCA_PASSPHRASE"
    static let bundlePassphraseVariable = "IOTCA_BUNDLE_PASSPHRASE"

    /// A prompt on the terminal, or nil when stdin is not one (a factory script must fail at
    /// once, not wait).
    static var available: PassphraseSource.Prompt? {
        isatty(STDIN_FILENO) == 1 ? ask : nil
    }

    /// getpass(3) reads from /dev/tty with echo off; the buffer is cleared after the copy.
    static let ask: PassphraseSource.Prompt = { text throws(KeyError) in
        guard let entered = getpass(text) else { throw KeyError.noPassphraseSource }
        defer { explicit_bzero(entered, strlen(entered)) }
        return Passphrase(String(cString: entered))
    }

    static func source(file: String?, variable: String = passphraseVariable,
                       purpose: String = "CA passphrase") -> PassphraseSource {
        PassphraseSource(file: file, environment: ProcessInfo.processInfo.environment, prompt: available,
                         variable: variable, purpose: purpose)
    }
}
