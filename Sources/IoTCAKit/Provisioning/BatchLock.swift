import Crypto
import Foundation

/// Holds an flock(2) on `STORE/locks/batch-HASH.lock` for one output folder and format while a
/// batch runs. Recovery (re-issuing a certificate recorded for this output but never written)
/// is only safe when no other run may be between recording and writing there; a second
/// batch into the same output is refused at once rather than left to race it. The lock goes
/// with the process, so a killed batch never leaves it held; a finished one removes its file.
struct BatchLock {
    private let descriptor: Int32
    private let path: String

    init(store: Store, target: String, out: URL) throws {
        let folder = try store.layout.locksFolder()
        let name = "batch-" + Array(Array(SHA256.hash(data: Array(target.utf8))).prefix(16)).hexString + ".lock"
        path = folder.appendingPathComponent(name).path
        // A holder removes the file when it releases: a lock taken on a file that is no longer
        // the one at `path` protects nothing, so check and retry (bounded).
        for _ in 0..<8 {
            let candidate = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
            guard candidate >= 0 else { throw StoreError.io(path: path, detail: String(cString: strerror(errno))) }
            guard flock(candidate, LOCK_EX | LOCK_NB) == 0 else {
                close(candidate)
                throw BatchBusy(out: out.path)
            }
            var held = stat(), current = stat()
            if fstat(candidate, &held) == 0 && stat(path, &current) == 0 && held.st_ino == current.st_ino && held.st_dev == current.st_dev {
                descriptor = candidate
                return
            }
            close(candidate)
        }
        throw BatchBusy(out: out.path)
    }

    func release() {
        unlink(path)
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}

/// Another batch is writing into the same output folder and format right now.
public struct BatchBusy: IoTCAError, Equatable {
    public let out: String
    public init(out: String) { self.out = out }
    public var kind: ErrorKind { .conflict }
    public var description: String {
        "another iotca batch is writing bundles into \(out) right now"
    }
}
