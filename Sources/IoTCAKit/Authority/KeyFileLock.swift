import Foundation

/// Serializes the operations that write CA key files under the store passphrase: `ca create`,
/// `ca rotate-root` and `passphrase change`. Without it, a CA created while the passphrase
/// changes could be encrypted with the old passphrase after the change, and the store would
/// open with neither passphrase alone. An flock(2) on `STORE/locks/keys.lock`, released with
/// the process; waiting is bounded by the operations themselves (seconds).
enum KeyFileLock {
    static func withLock<T>(_ store: Store, _ body: () throws -> T) throws -> T {
        let folder = store.layout.locks
        if mkdir(folder.path, 0o700) != 0 && errno != EEXIST {
            throw StoreError.io(path: folder.path, detail: String(cString: strerror(errno)))
        }
        let path = folder.appendingPathComponent("keys.lock").path
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw StoreError.io(path: path, detail: String(cString: strerror(errno))) }
        defer { close(descriptor) }
        while flock(descriptor, LOCK_EX) != 0 {
            guard errno == EINTR else { throw StoreError.io(path: path, detail: String(cString: strerror(errno))) }
        }
        defer { flock(descriptor, LOCK_UN) }
        return try body()
    }
}
