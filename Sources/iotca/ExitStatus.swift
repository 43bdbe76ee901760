import IoTCAKit

/// The process exit statuses the CLI uses, one per kind of failure, so factory scripts can
/// branch on them without parsing text. Values are part of the public interface (README).
enum ExitStatus: Int32, Sendable, CaseIterable {
    case success = 0
    case internalError = 1
    /// The store is missing, already exists, unreadable or corrupt.
    case store = 3
    /// No passphrase could be obtained, or it does not open the key.
    case passphrase = 4
    /// The request breaks policy: bad CSR, bad thing name, bad template, bad SAN, bad validity.
    case rejected = 5
    /// The certificate authority cannot issue: unknown, disabled, pending or expired.
    case authorityUnavailable = 6
    /// The thing already has an active certificate, or an output already exists.
    case conflict = 7
    /// A serial, thing or template that does not exist.
    case notFound = 8
    /// Writing an output file or folder failed.
    case output = 9
    /// The caller may not do this: outside its grants, or an operator's action.
    case forbidden = 10
    /// Command-line usage error (swift-argument-parser's own code).
    case usage = 64
}

extension ExitStatus {
    /// The CLI's exit status for each kind of error (README, "Exit codes").
    init(_ kind: ErrorKind) {
        switch kind {
        case .internalError: self = .internalError
        case .store: self = .store
        case .passphrase: self = .passphrase
        case .policy: self = .rejected
        case .unavailable: self = .authorityUnavailable
        case .conflict: self = .conflict
        case .notFound: self = .notFound
        case .output: self = .output
        case .forbidden: self = .forbidden
        }
    }
}

extension IoTCAError {
    /// The CLI's exit status for this error.
    var exitStatus: ExitStatus { ExitStatus(kind) }
}
