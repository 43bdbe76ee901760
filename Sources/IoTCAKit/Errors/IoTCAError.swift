/// What kind of failure an error is, in terms every front end maps to its own: the CLI to an
/// exit status (`ExitStatus(kind)`, in the CLI), the service to an HTTP status.
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

/// Every error the library throws conforms to this: one line a person can act on, without any
/// front end's words (no command-line flag: the CLI adds those, see `Advice`), and its kind.
/// Messages never contain passphrases or key material.
public protocol IoTCAError: Error, CustomStringConvertible, Sendable {
    var kind: ErrorKind { get }
}
