import Foundation

/// Serializes the operations that write CA key files under the store passphrase: `ca create`,
/// `ca rotate-root` and `passphrase change`. Without it, a CA created while the passphrase
/// changes could be encrypted with the old passphrase after the change, and the store would
/// open with neither passphrase alone. The store lock `keys` (an flock(2) on
/// `STORE/locks/keys.lock`, or an advisory lock in a shared database), released with the process; waiting is bounded by the operations themselves (seconds).
enum KeyFileLock {
    static func withLock<T>(_ store: Store, _ body: () throws -> T) throws -> T {
        try store.files.withLock("keys", body)
    }
}
