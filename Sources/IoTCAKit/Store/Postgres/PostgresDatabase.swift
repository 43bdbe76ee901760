import Foundation
import PostgresNIO

/// The shared engine: one PostgreSQL database that several nodes (`iotca serve` on several
/// machines, the CLI anywhere) use at once. Each write is one transaction that first takes a
/// transaction-scoped advisory lock, so writers queue exactly as SQLite's do: every check a
/// write makes (one active certificate per thing, the next CRL number, the audit chain's end)
/// is made and acted on with no other writer in between, on any node. Every write appends to
/// the one audit chain anyway, so a finer lock would buy no parallelism. Reads run in
/// REPEATABLE READ snapshots and never wait for writers.
final class PostgresDatabase: StoreDatabase {
    let pool: PostgresConnectionPool
    var location: String { pool.location.description }
    let isReadOnly = false

    /// The advisory lock every write transaction holds (any constant; "iotca" in ASCII).
    static let writeLock = PostgresLocks.write

    /// Connects and brings the schema up to date (under the write lock, so two nodes starting
    /// at once migrate once). Without `create`, a database with no store schema is not a
    /// store (`StoreError.notFound`) and is left untouched. `connections` bounds the
    /// connections this process opens (a lock holder and a writer need one each).
    init(_ location: PostgresLocation, connections: Int, create: Bool) throws(StoreError) {
        pool = try PostgresConnectionPool(location, limit: max(2, connections))
        do {
            // Up to date (every open but the first after an upgrade): no need to queue behind
            // the writers.
            let applied = try readOne { db in
                try db.value(Bool.self, "SELECT to_regclass('schema_migrations') IS NOT NULL") == true
                    ? Set(try db.values(String.self, "SELECT version FROM schema_migrations")) : []
            }
            if applied == Set(PostgresSchema.migrations.map(\.version)) { return }
            try write { db in
                let exists = try db.value(Bool.self, "SELECT to_regclass('schema_migrations') IS NOT NULL") ?? false
                guard exists || create else { throw StoreError.notFound(path: location.description) }
                try PostgresSchema.migrate(db)
            }
        } catch {
            pool.close()
            throw error as? StoreError ?? .database("\(error)")
        }
    }

    @discardableResult
    func write<T>(_ body: (any SQLConnection) throws -> T) throws -> T {
        try transaction("BEGIN ISOLATION LEVEL READ COMMITTED", lock: true, body)
    }

    func writeUnqueued<T>(_ body: (any SQLConnection) throws -> T) throws -> T {
        try transaction("BEGIN ISOLATION LEVEL READ COMMITTED", lock: false, body)
    }

    /// A statement that commits on its own: a connection lost while it ran may have committed it.
    func writeOne<T>(_ body: (any SQLConnection) throws -> T) throws -> T {
        try onConnection { connection in
            do {
                return try body(PostgresSQLConnection(connection))
            } catch let error as PSQLError where error.code != .server {
                throw StoreError.commitUnknown(location: location, detail: "\(error.code)")
            } catch let error as PostgresSQLConnection.ConnectionLost {
                throw StoreError.commitUnknown(location: location, detail: error.description)
            }
        }
    }

    func read<T>(_ body: (any SQLConnection) throws -> T) throws -> T {
        try transaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", lock: false, body)
    }

    func readOne<T>(_ body: (any SQLConnection) throws -> T) throws -> T {
        try onConnection { connection in try body(PostgresSQLConnection(connection)) }
    }

    /// `body` on a pooled connection; library errors pass through, the driver's become
    /// `StoreError`s.
    private func onConnection<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        do {
            return try pool.withConnection(body)
        } catch let error as any IoTCAError {
            throw error
        } catch {
            throw PostgresConnectionPool.storeError(error, location: location)
        }
    }

    private func transaction<T>(_ begin: String, lock: Bool, _ body: (any SQLConnection) throws -> T) throws -> T {
        try onConnection { connection in
            let db = PostgresSQLConnection(connection)
            try db.execute(begin, [])
            do {
                if lock { try db.execute("SELECT pg_advisory_xact_lock(?)", [.integer(Self.writeLock)]) }
                let result = try body(db)
                do {
                    try db.execute("COMMIT", [])
                } catch let error as PSQLError where error.code != .server {
                    throw StoreError.commitUnknown(location: location, detail: "\(error.code)")
                } catch let error as PostgresSQLConnection.ConnectionLost {
                    throw StoreError.commitUnknown(location: location, detail: error.description)
                }
                return result
            } catch {
                // A connection that broke has no transaction left to roll back.
                if !connection.isClosed { _ = try? db.execute("ROLLBACK", []) }
                throw error
                }
        }
    }

    func close() throws(StoreError) { pool.close() }

    func compact() throws -> (before: Int64, after: Int64)? { nil }

    func revocationEpoch() throws -> Int64 {
        try readOne { db in try db.value(Int64.self, "SELECT CAST(value AS BIGINT) FROM settings WHERE key = 'revocation_epoch'") ?? 0 }
    }
}
