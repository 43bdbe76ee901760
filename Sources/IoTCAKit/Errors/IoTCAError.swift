/// The process exit statuses the CLI uses, one per kind of failure, so factory scripts can
/// branch on them without parsing text. Values are part of the public interface (README).
public enum ExitStatus: Int32, Sendable, CaseIterable {
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

/// What kind of failure an error is, in terms every front end maps to its own: the CLI to an
/// exit status (`ExitStatus(kind)`), the service to an HTTP status.
public enum ErrorKind: String, Sendable, CaseIterable {
    /// A bug: please report it.
    case internalError = "internal"
    /// The store is missing, already exists, unreadable, corrupt, read-only or locked.
    case store
    /// No passphrase could be had, it does not open the key, or it breaks the policy.
    case passphrase
    /// The request breaks policy: bad CSR, thing name, template, SAN, attribute or validity.
    case policy
    /// The CA cannot act: disabled, revoked, pending or expired.
    case unavailable
    /// It clashes with what exists: an active certificate, an output, a CA name, a running batch.
    case conflict
    /// A CA, template, serial or thing that does not exist.
    case notFound
    /// A bundle or file could not be written.
    case output
    /// The caller (a station, a claim, a device) may not do this: it lies outside its grants,
    /// or it is an operator's action.
    case forbidden
}

extension ExitStatus {
    /// The CLI's exit status for each kind of error (README, "Exit codes").
    public init(_ kind: ErrorKind) {
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

/// Every error the library throws conforms to this: one line a person can act on, without any
/// front end's words (no command-line flag: the CLI adds those, see `Advice`), and its kind.
/// Messages never contain passphrases or key material.
public protocol IoTCAError: Error, CustomStringConvertible, Sendable {
    var kind: ErrorKind { get }
}

extension IoTCAError {
    /// The CLI's exit status for this error.
    public var exitStatus: ExitStatus { ExitStatus(kind) }
}
