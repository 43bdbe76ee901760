import Foundation
import Synchronization
import TestSupport

/// Samples `pg_locks` while a benchmark row runs: how many sessions wait for an advisory lock
/// (the store's write lock, a thing's, the audit chain's end), as a database team would watch it.
final class LockSampler: Sendable {
    struct Summary { var samples = 0, waiting = 0, maximum = 0, held = 0 }
    private let state = Mutex(Summary())
    private let running = Atomic<Bool>(true)
    private let finished = DispatchSemaphore(value: 0)

    /// Samples `database` of `server` every `interval` until `stop`.
    init(_ server: PostgresServer, database: String, interval: Duration = .milliseconds(20)) {
        Thread.detachNewThread { [self] in
            while running.load(ordering: .relaxed) {
                let line = (try? server.psql(database, """
                    SELECT count(*) FILTER (WHERE NOT granted), count(*) FILTER (WHERE granted) FROM pg_locks WHERE locktype = 'advisory'
                    """)) ?? ""
                let numbers = line.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "|").compactMap { Int($0) }
                if numbers.count == 2 {
                    state.withLock { summary in
                        summary.samples += 1
                        summary.waiting += numbers[0]
                        summary.maximum = max(summary.maximum, numbers[0])
                        summary.held += numbers[1]
                    }
                }
                Thread.sleep(forTimeInterval: Double(interval.components.attoseconds) / 1e18)
            }
            finished.signal()
        }
    }

    func stop() -> Summary {
        running.store(false, ordering: .relaxed)
        finished.wait()
        return state.withLock { $0 }
    }

    /// The database's name in a `PostgresServer.url`.
    static func databaseName(_ url: String) -> String {
        String(url.split(separator: "/").last?.split(separator: "?").first ?? "")
    }
}
