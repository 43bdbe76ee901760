import IoTCAKit
import NIOPosix
import Synchronization

/// Runs the library's blocking operations (SQLite, signing, key generation) off the event
/// loops, on a fixed pool of threads. Each running operation borrows one `CertificateAuthority`
/// (warm templates, chains, key generator); all share one keyring, so the CA keys are
/// unlocked once for the whole process.
final class Workers: Sendable {
    private let pool: NIOThreadPool
    private let keyring: Keyring
    private let idle = Mutex<[Borrowed]>([])

    /// One front door, used by one thread at a time: taken out of `idle` for one operation and
    /// put back after, so no two threads ever touch it together.
    private final class Borrowed: @unchecked Sendable {
        let authority: CertificateAuthority
        init(_ authority: CertificateAuthority) { self.authority = authority }
    }

    init(keyring: Keyring, threads: Int) {
        self.keyring = keyring
        pool = NIOThreadPool(numberOfThreads: max(1, threads))
        pool.start()
    }

    /// Runs `operation` on a worker thread with a front door of its own; `client`, when
    /// given, is recorded in every audit event the operation appends.
    func run<T: Sendable>(client: String? = nil, _ operation: @escaping @Sendable (CertificateAuthority) throws -> T) async throws -> T {
        try await pool.runIfActive { [self] in
            let borrowed = idle.withLock { $0.popLast() } ?? Borrowed(CertificateAuthority(keyring: keyring))
            defer { idle.withLock { $0.append(borrowed) } }
            return try AuditEvent.$client.withValue(client) { try operation(borrowed.authority) }
        }
    }

    func shutdown() async throws {
        try await pool.shutdownGracefully()
    }
}
