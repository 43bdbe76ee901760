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
    /// Command-line usage error (swift-argument-parser's own code).
    case usage = 64
}

/// Every error the library throws conforms to this: one line a person can act on, and the exit
/// status the CLI maps it to. Messages never contain passphrases or key material.
public protocol IoTCAError: Error, CustomStringConvertible, Sendable {
    var exitStatus: ExitStatus { get }
}
