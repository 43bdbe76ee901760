import Crypto
import Foundation

/// Holds the store lock `batch-HASH` (an flock(2) on `STORE/locks/batch-HASH.lock`, or an
/// advisory lock in a shared database) for one output folder and format while a batch runs. Recovery (re-issuing a certificate recorded for this output but never written)
/// is only safe when no other run may be between recording and writing there; a second
/// batch into the same output is refused at once rather than left to race it. The lock goes
/// with the process, so a killed batch never leaves it held; a finished one removes its file.
struct BatchLock {
    private let lock: any StoreFileLock

    init(store: Store, target: String, out: URL) throws {
        let name = "batch-" + Array(Array(SHA256.hash(data: Array(target.utf8))).prefix(16)).hexString
        guard let lock = try store.files.tryLock(name) else { throw BatchBusy(out: out.path) }
        self.lock = lock
    }

    func release() { lock.release() }
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
