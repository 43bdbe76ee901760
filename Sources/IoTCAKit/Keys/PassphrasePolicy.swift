/// What a CA passphrase must be. Length is the one rule: a 12-character passphrase, even of
/// lower-case letters alone, is 26^12 = 2^56 guesses, which at PBKDF2's 600,000 iterations per
/// guess is out of reach of an offline attack on a stolen store; composition rules
/// (a digit, a symbol) add little and push people to `Passw0rd!` (NIST SP 800-63B 5.1.1.2 asks for
/// length, not composition). Applied at `init`, `ca create`, `ca rotate-root` and
/// `passphrase change`; stores made with `--insecure-no-passphrase` have no passphrase at all.
public enum PassphrasePolicy {
    public static let minimumCharacters = 12

    public static func check(_ passphrase: Passphrase) throws(KeyError) {
        guard !passphrase.isEmpty else { throw .emptyPassphrase }
        guard !passphrase.containsNUL else { throw .passphraseContainsNUL }
        let characters = String(decoding: passphrase.bytes, as: UTF8.self).count
        guard characters >= minimumCharacters else { throw .passphraseTooShort(characters: characters, minimum: minimumCharacters) }
    }
}
