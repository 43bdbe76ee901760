import IoTCAKit
import NIOPosix
import Synchronization

/// Runs the library's blocking operations (SQLite, signing, key generation) off the event
/// loops, on a fixed pool of threads. Each running operation borrows one `CertificateAuthority`
/// (warm templates, chains, key generator); all share one keyring, so the CA keys are
/// unlocked once for the whole process.
final class Workers: Sendable {
    private let pool: NIOThreadPool
    /// The public listener's reads on a shared store (OCSP), a lane of their own: a flood of
    /// unauthenticated requests never queues ahead of the API's work, and holds at most
    /// `publicThreads` of the store's connections (the service opens the workers' count + 2).
    private let publicPool: NIOThreadPool
    static let publicThreads = 2
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
        publicPool = NIOThreadPool(numberOfThreads: Self.publicThreads)
        publicPool.start()
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

    /// Runs a store read the async handlers need, on a worker thread when the store is a shared
    /// database and in place otherwise. On PostgreSQL a read waits a network round trip, which
    /// on Swift's cooperative pool (a thread per core, shared by every request of the node)
    /// held a thread idle per read: with the database a rack away, the client check alone
    /// capped a node near two requests per round trip. On SQLite the read takes microseconds
    /// and the hop to another thread would cost more than it.
    /// `publicListener`: for the public listener, on its own lane.
    func read<T: Sendable>(shared: Bool, publicListener: Bool = false, _ body: @escaping @Sendable () throws -> T) async throws -> T {
        guard shared else { return try body() }
        return try await (publicListener ? publicPool : pool).runIfActive(body)
    }

    func shutdown() async throws {
        try await publicPool.shutdownGracefully()
        try await pool.shutdownGracefully()
    }
}
