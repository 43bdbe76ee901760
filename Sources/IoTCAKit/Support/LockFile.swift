import Foundation

/// Runs a body under an exclusive flock(2) on a lock file (made if missing), waiting for any
/// other holder; the lock goes with the process if it dies. One mechanism for the CRL files'
/// lock and the store's key-file lock.
enum LockFile {
    /// `failure` turns a path and the system's reason into the caller's own error.
    static func withExclusive<T>(_ url: URL, mode: mode_t = 0o600, failure: (String, String) -> any Error,
                                 _ body: () throws -> T) throws -> T {
        let descriptor = open(url.path, O_RDWR | O_CREAT | O_CLOEXEC, mode)
        guard descriptor >= 0 else { throw failure(url.path, String(cString: strerror(errno))) }
        defer { close(descriptor) }
        while flock(descriptor, LOCK_EX) != 0 {
            guard errno == EINTR else { throw failure(url.path, String(cString: strerror(errno))) }
        }
        defer { flock(descriptor, LOCK_UN) }
        return try body()
    }
}
