import Foundation
import NIOCore
import PostgresNIO
import Synchronization

/// A statement's answer waited for by a worker thread, with one crossing to the connection's
/// event loop and one back.
///
/// Sent from a worker, `PostgresConnection.query` and a plain `wait()` cross to the event loop
/// once for each step they chain (the write, two `flatMap`s, the error mapping, the watch, the
/// wait's own callback): six hand-offs a statement, and on a shared store's issuance path they
/// were an eighth of the node's CPU (scheduler and futex in `perf record -a`). Here the
/// statement is started from a single task on the loop, where every step runs without
/// crossing, and the answer wakes the worker through a semaphore.
///
/// It does not wait forever: a query sent just as its connection closed is never answered by
/// postgres-nio (the write finds no pipeline, and its promise is dropped), which left a worker
/// waiting for ever when the database went down. Checked each second: a closed connection fails
/// the wait at once, one silent for `patience` is closed.
/// A statement never answered: its connection closed under it, or went silent.
struct PostgresConnectionLost: Error, CustomStringConvertible {
    var description: String { "the connection closed before the database answered" }
}

final class PostgresAnswer<Value: Sendable>: @unchecked Sendable {
    /// The longest a statement may go unanswered on a connection that still looks open.
    static var patience: TimeAmount { .seconds(120) }

    private let connection: PostgresConnection
    private let answered = DispatchSemaphore(value: 0)
    private let result = Mutex<Result<Value, any Error>?>(nil)
    // Touched only on the connection's event loop.
    private var settled = false
    private var watch: Scheduled<Void>?

    private init(_ connection: PostgresConnection) { self.connection = connection }

    /// Runs `start` on `connection`'s event loop and waits for the future it returns.
    static func wait(on connection: PostgresConnection,
                     _ start: @escaping @Sendable (PostgresConnection) -> EventLoopFuture<Value>) throws -> Value {
        let pending = PostgresAnswer(connection)
        let loop = connection.eventLoop
        // Waiting on the loop that must answer would never end (the watch runs there too).
        loop.preconditionNotInEventLoop()
        let deadline = NIODeadline.now() + patience
        loop.execute {
            pending.arm(loop, until: deadline)
            start(connection).whenComplete { pending.settle($0) }
        }
        pending.answered.wait()
        guard let outcome = pending.result.withLock({ $0 }) else { throw PostgresConnectionLost() }
        return try outcome.get()
    }

    private func arm(_ loop: any EventLoop, until deadline: NIODeadline) {
        watch = loop.scheduleTask(in: .seconds(1)) { [self] in
            guard !settled else { return }
            if connection.isClosed || NIODeadline.now() > deadline {
                if !connection.isClosed { connection.close().whenComplete { _ in } }
                settle(.failure(PostgresConnectionLost()))
            } else {
                arm(loop, until: deadline)
            }
        }
    }

    private func settle(_ outcome: Result<Value, any Error>) {
        guard !settled else { return }
        settled = true
        // A timer per statement left to fire a second later would pile up thousands under load.
        watch?.cancel()
        watch = nil
        result.withLock { $0 = outcome }
        answered.signal()
    }
}
