import Foundation

/// Which key a renewal certifies when iotca makes the key (no CSR).
public enum RenewalKey: String, Sendable, CaseIterable {
    /// The key prepared last time (`next-key.pem`), when the template prepares one, so clients
    /// that pinned it as a backup keep connecting; else a new key.
    case next
    /// The key of the bundle being renewed (`key.pem`): the pin stays the same.
    case keep
    /// A fresh key even when a next key is prepared: clients that pinned the keys lose it.
    case new
}

/// A renewal cannot use the key it was asked to, so nothing was issued.
public enum KeyRollError: IoTCAError, Equatable {
    /// The bundle being renewed has no such key file.
    case keyFileMissing(path: String, purpose: String)
    /// The file holds another key than the one on record.
    case keyMismatch(path: String, expected: String)
    /// A key can only be kept or rolled from a bundle folder.
    case needsBundleFolder(format: String)

    public var kind: ErrorKind {
        switch self {
        case .keyFileMissing: return .notFound
        case .keyMismatch: return .conflict
        case .needsBundleFolder: return .policy
        }
    }

    public var description: String {
        switch self {
        case .keyFileMissing(let path, let purpose):
            return "\(path) is missing: it is \(purpose); restore it, or renew with a new key (clients that pin the old keys will refuse the server)"
        case .keyMismatch(let path, let expected):
            return "\(path) does not hold the key on record (SPKI SHA-256 \(expected)): it is not this thing's key"
        case .needsBundleFolder(let format):
            return "keeping or rolling to a prepared key reads the previous bundle folder; the \(format) format has none"
        }
    }
}
