public enum KeyError: IoTCAError, Equatable {
    case generationFailed(KeyAlgorithm, detail: String)
    case encodingFailed(detail: String)
    case wrongPassphrase(path: String)
    case passphraseRequired(path: String)
    case unreadableKeyFile(path: String, detail: String)
    case unsupportedKey(detail: String)
    case keyFileExists(path: String)
    case writeFailed(path: String, detail: String)
    case noPassphraseSource
    case unreadablePassphraseFile(path: String, detail: String)
    case emptyPassphrase
    case passphraseMismatch
    case passphraseContainsNUL
    case passphraseTooShort(characters: Int, minimum: Int)
    case storePassphraseTooShort(characters: Int, minimum: Int)
    case noNewPassphraseSource

    public var kind: ErrorKind {
        switch self {
        case .wrongPassphrase, .passphraseRequired, .noPassphraseSource, .unreadablePassphraseFile,
             .emptyPassphrase, .passphraseMismatch, .passphraseContainsNUL, .passphraseTooShort,
             .storePassphraseTooShort, .noNewPassphraseSource: return .passphrase
        case .unsupportedKey: return .policy
        case .keyFileExists: return .conflict
        case .writeFailed: return .output
        case .unreadableKeyFile: return .store
        case .generationFailed, .encodingFailed: return .internalError
        }
    }

    public var description: String {
        switch self {
        case .generationFailed(let algorithm, let detail):
            return "could not generate a \(algorithm.rawValue) key: \(detail)"
        case .encodingFailed(let detail):
            return "could not encode a key: \(detail)"
        case .wrongPassphrase(let path):
            return "the passphrase does not open \(path)"
        case .passphraseRequired(let path):
            return "\(path) is encrypted and no passphrase was given"
        case .unreadableKeyFile(let path, let detail):
            return "cannot read the key file \(path): \(detail)"
        case .unsupportedKey(let detail):
            return "unsupported key: \(detail)"
        case .keyFileExists(let path):
            return "\(path) already exists: refusing to overwrite a private key"
        case .writeFailed(let path, let detail):
            return "cannot write \(path): \(detail)"
        case .noPassphraseSource:
            return "the CA passphrase is needed and there is no terminal to ask on"
        case .unreadablePassphraseFile(let path, let detail):
            return "cannot read the passphrase file \(path): \(detail)"
        case .emptyPassphrase:
            return "the CA passphrase is empty"
        case .passphraseMismatch:
            return "the two passphrases differ: try again"
        case .passphraseTooShort(let characters, let minimum):
            return "the CA passphrase has \(characters) characters; CA keys need at least \(minimum) (a few words make a good one)"
        case .storePassphraseTooShort(let characters, let minimum):
            return "the store's passphrase has \(characters) characters, below the \(minimum) new CA keys need: change it first"
        case .noNewPassphraseSource:
            return "the new passphrase is needed and there is no terminal to ask on"
        case .passphraseContainsNUL:
            return "the passphrase contains a NUL byte, which OpenSSL would cut it at: choose one without (check the passphrase file)"
        }
    }
}
