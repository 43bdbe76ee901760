import Foundation

/// The store's files that every node must see: CA key files (`keys/NAME.HEX.key.pem`, always
/// passphrase-encrypted in a shared database), templates (`templates/NAME.json`), and the
/// locks that serialize key-file writers and batches. A folder store keeps them in its
/// folder; a PostgreSQL store in its `files` table, with advisory locks, so any node opens
/// any CA's key with the passphrase and no shared file system is needed.
protocol StoreFiles: Sendable {
    /// The file's bytes; nil when it does not exist.
    func read(_ relative: String) throws -> [UInt8]?
    /// Creates the file, which must not exist yet (`OutputError.exists`), durably.
    func createNew(_ relative: String, _ bytes: [UInt8], mode: mode_t) throws
    /// Creates or replaces the file, atomically and durably.
    func write(_ relative: String, _ bytes: [UInt8], mode: mode_t) throws
    /// Removes the files that exist; returns how many did.
    @discardableResult
    func remove(_ relatives: [String]) throws -> Int
    /// The names of the files directly in `folder` (`keys`, `templates`), sorted.
    func list(_ folder: String) throws -> [String]
    /// Runs `body` holding the exclusive lock `name`, waiting for another holder; the lock goes
    /// with the process (or its database session) if it dies.
    func withLock<T>(_ name: String, _ body: () throws -> T) throws -> T
    /// Takes the lock `name` if no one holds it; nil if someone does.
    func tryLock(_ name: String) throws -> (any StoreFileLock)?
    /// How the file is named in messages.
    func describe(_ relative: String) -> String
}

/// A lock taken with `tryLock`, held until released (or the process ends).
protocol StoreFileLock: Sendable {
    func release()
}
