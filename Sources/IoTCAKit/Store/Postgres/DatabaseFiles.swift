import Foundation
import PostgresNIO

/// The store files of a PostgreSQL store: rows of its `files` table, so every node reads the
/// same encrypted key files and templates; locks are session advisory locks, which the server
/// drops with the session if the process holding one dies.
struct DatabaseFiles: StoreFiles {
    let database: PostgresDatabase
    /// The store's clock: a file's time is the same clock as every other time it records.
    let clock: WallClock

    /// The first key of the two-key advisory locks ("io" "tc" in ASCII); the write lock uses the
    /// one-key space, which PostgreSQL keeps apart.
    static let lockSpace = Int64(PostgresLocks.fileSpace)

    func read(_ relative: String) throws -> [UInt8]? {
        try database.readOne { db in try db.value([UInt8].self, "SELECT content FROM files WHERE path = ?", relative) }
    }

    func createNew(_ relative: String, _ bytes: [UInt8], mode: mode_t) throws {
        try database.write { db in
            guard try db.execute("""
                INSERT INTO files (path, content, mode, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (path) DO NOTHING
                """, relative, bytes, Int64(mode), clock.now()) == 1 else {
                throw OutputError.exists(path: describe(relative))
            }
        }
    }

    func write(_ relative: String, _ bytes: [UInt8], mode: mode_t) throws {
        try database.write { db in
            try db.execute("""
                INSERT INTO files (path, content, mode, created_at) VALUES (?, ?, ?, ?)
                ON CONFLICT (path) DO UPDATE SET content = excluded.content, mode = excluded.mode, created_at = excluded.created_at
                """, relative, bytes, Int64(mode), clock.now())
        }
    }

    @discardableResult
    func remove(_ relatives: [String]) throws -> Int {
        guard !relatives.isEmpty else { return 0 }
        return try database.write { db in
            try relatives.reduce(0) { count, relative in count + (try db.execute("DELETE FROM files WHERE path = ?", relative)) }
        }
    }

    func list(_ folder: String) throws -> [String] {
        let prefix = folder.hasSuffix("/") ? folder : folder + "/"
        return try database.readOne { db in
            try db.values(String.self, "SELECT path FROM files WHERE starts_with(path, ?) ORDER BY path", prefix)
        }.map { String($0.dropFirst(prefix.count)) }.filter { !$0.contains("/") }
    }

    func withLock<T>(_ name: String, _ body: () throws -> T) throws -> T {
        let connection = try database.pool.acquire()
        let session = PostgresSQLConnection(connection)
        do {
            try session.execute("SELECT pg_advisory_lock(CAST(? AS INTEGER), hashtext(?))", [.integer(Self.lockSpace), .text(name)])
        } catch {
            database.pool.release(connection, healthy: false)
            throw PostgresConnectionPool.storeError(error, location: database.location)
        }
        defer { Self.unlock(name, on: connection, pool: database.pool) }
        return try body()
    }

    func tryLock(_ name: String) throws -> (any StoreFileLock)? {
        let connection = try database.pool.acquire()
        let session = PostgresSQLConnection(connection)
        let taken: Bool
        do {
            taken = try session.rows("SELECT pg_try_advisory_lock(CAST(? AS INTEGER), hashtext(?))",
                                     [.integer(Self.lockSpace), .text(name)]).first?.get(0, as: Bool.self) ?? false
        } catch {
            database.pool.release(connection, healthy: false)
            throw PostgresConnectionPool.storeError(error, location: database.location)
        }
        guard taken else {
            database.pool.release(connection, healthy: true)
            return nil
        }
        return SessionLock(pool: database.pool, connection: connection, name: name)
    }

    /// Releases the session lock `name` and gives its connection back (closed if the unlock failed).
    static func unlock(_ name: String, on connection: PostgresConnection, pool: PostgresConnectionPool) {
        let unlocked = (try? PostgresSQLConnection(connection).execute(
            "SELECT pg_advisory_unlock(CAST(? AS INTEGER), hashtext(?))", [.integer(lockSpace), .text(name)])) != nil
        pool.release(connection, healthy: unlocked)
    }

    func describe(_ relative: String) -> String { "\(database.location) (file \(relative))" }

    /// An advisory lock held by a session kept out of the pool until released.
    struct SessionLock: StoreFileLock, @unchecked Sendable {
        let pool: PostgresConnectionPool
        let connection: PostgresConnection
        let name: String

        func release() { DatabaseFiles.unlock(name, on: connection, pool: pool) }
    }
}
