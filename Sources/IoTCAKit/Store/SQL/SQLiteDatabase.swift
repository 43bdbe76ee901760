import Foundation
import GRDB
import GRDBSQLite
import Synchronization

/// The embedded engine: one SQLite database (WAL, busy timeout) in the store folder. Several
/// processes may share it: SQLite's locks arbitrate, and every write is one IMMEDIATE
/// transaction.
final class SQLiteDatabase: StoreDatabase {
    let path: String
    private let pool: DatabasePool
    let isReadOnly: Bool
    /// `readOne`'s connections, beside GRDB's pool; nil for a store opened read-only (perhaps
    /// `immutable`, which only the pool's own opening knows how to read).
    private let readers: SQLiteReaders?
    /// The revocation count's cheap watcher (a connection of its own), made on first use:
    /// only the OCSP responder asks, thousands of times a second.
    private let watch = Mutex<(tried: Bool, watcher: StoreChangeWatch?)>((false, nil))

    /// How long a writer waits for another process's transaction before giving up.
    static let busyTimeout: TimeInterval = 15

    /// Bytes of write-ahead log kept after a checkpoint.
    static let walSizeLimit = 64 << 20

    var location: String { path }

    init(path: String) throws(StoreError) {
        self.path = path
        var configuration = Configuration()
        configuration.busyMode = .timeout(Self.busyTimeout)
        configuration.label = "iotca"
        // FULL: in WAL mode every commit is synced before it returns. A bundle is written only
        // after its row commits, so the row must outlive a power cut whenever the bundle does.
        // The WAL grows to a transaction's size (a batch's chunk, a migration, a mass
        // revocation) and SQLite keeps that size while any connection is open; the limit gives
        // the disk back at the next checkpoint.
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL; PRAGMA journal_size_limit = \(Self.walSizeLimit)")
        }
        do {
            let writable = try DatabasePool(path: path, configuration: configuration)
            try StoreSchema.migrator.migrate(writable)
            pool = writable
            // SQLite opens a write-protected file read-only without a word: then this is a
            // read-only store, read through the pool, as one opened read-only is.
            let protected = writable.writeWithoutTransaction { sqlite3_db_readonly($0.sqliteConnection, "main") == 1 }
            isReadOnly = protected
            readers = protected ? nil : SQLiteReaders(path: path)
        } catch {
            let failure = Self.storeError(error, path: path)
            // A store on read-only media or owned by someone else still answers reads (list,
            // show, audit, pins, doctor); every write fails with the read-only error.
            guard failure == .readOnly(path: path), let readable = Self.openReadOnly(path, configuration) else {
                throw failure
            }
            pool = readable
            isReadOnly = true
            readers = nil
        }
    }

    /// A read-only connection: plain first, which needs SQLite's WAL index files to exist or be
    /// creatable; else `immutable=1`, for a folder nobody can write to (read-only media, a
    /// backup owned by another user), where SQLite can take no locks at all.
    private static func openReadOnly(_ path: String, _ configuration: Configuration) -> DatabasePool? {
        var configuration = configuration
        configuration.readonly = true
        let uri = "file:" + path.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: "?", with: "%3f")
            .replacingOccurrences(of: "#", with: "%23") + "?immutable=1"
        for candidate in [path, uri] {
            if let pool = try? DatabasePool(path: candidate, configuration: configuration),
               (try? pool.read({ try StoreSchema.migrator.hasCompletedMigrations($0) })) == true {
                return pool
            }
        }
        return nil
    }

    /// The readers before the pool's connections, as in `close`.
    deinit { readers?.close() }

    @discardableResult
    func write<T>(_ body: (any SQLConnection) throws -> T) throws -> T {
        do { return try pool.write { try body(SQLiteConnection($0)) } } catch { throw passThrough(error) }
    }

    func read<T>(_ body: (any SQLConnection) throws -> T) throws -> T {
        do { return try pool.read { try body(SQLiteConnection($0)) } } catch { throw passThrough(error) }
    }

    /// One statement is atomic on its own (SQLite's autocommit reads one snapshot for it): no
    /// BEGIN and COMMIT around it, which cost more than an OCSP status lookup itself; and on a
    /// connection of `readers`, not of GRDB's pool.
    func readOne<T>(_ body: (any SQLConnection) throws -> T) throws -> T {
        do {
            if let readers { return try readers.read { try body(SQLiteConnection($0)) } }
            return try pool.unsafeRead { try body(SQLiteConnection($0)) }
        } catch {
            throw passThrough(error)
        }
    }

    func writeOne<T>(_ body: (any SQLConnection) throws -> T) throws -> T {
        do { return try pool.writeWithoutTransaction { try body(SQLiteConnection($0)) } } catch { throw passThrough(error) }
    }

    /// SQLite has one writer at a time whatever the write.
    func writeUnqueued<T>(_ body: (any SQLConnection) throws -> T) throws -> T { try write(body) }

    func close() throws(StoreError) {
        // The readers before the pool, so that its writer closes last and SQLite checkpoints
        // and removes the write-ahead log (the file alone then holds the store); reopened when
        // the pool does not close, so a close that fails leaves every kind of read working.
        readers?.close()
        do { try pool.close() } catch {
            readers?.reopen()
            throw Self.storeError(error, path: path)
        }
    }

    /// VACUUM rewrites the file without its free pages (a rebuilt table's old pages, deleted
    /// rows); it waits for the writers and holds the write lock while it copies.
    func compact() throws -> (before: Int64, after: Int64)? {
        func bytes(_ db: Database) throws -> Int64 {
            (try Int64.fetchOne(db, sql: "PRAGMA page_count") ?? 0) * (try Int64.fetchOne(db, sql: "PRAGMA page_size") ?? 0)
        }
        do {
            return try pool.writeWithoutTransaction { db in
                let before = try bytes(db)
                try db.execute(sql: "VACUUM")
                return (before, try bytes(db))
            }
        } catch {
            throw passThrough(error)
        }
    }

    private var watcher: StoreChangeWatch? {
        watch.withLock { watch -> StoreChangeWatch? in
            // Opened once: a store it cannot open is read through the pool, not tried again.
            if !watch.tried { watch = (true, StoreChangeWatch(path: path)) }
            return watch.watcher
        }
    }

    func revocationEpoch() throws -> Int64 {
        if let watcher { return try watcher.revocationEpoch() }
        return try read { db in try db.value(Int64.self, "SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'revocation_epoch'") ?? 0 }
    }

    func certificateStatus(authorityID: Int64, serial: String) throws -> SQLRow? {
        if let watcher { return try watcher.certificateStatus(authorityID: authorityID, serial: serial) }
        return try readOne { db in try db.row(StoreQueries.certificateStatus, authorityID, serial) }
    }

    private func passThrough(_ error: any Error) -> any Error {
        error is any IoTCAError ? error : Self.storeError(error, path: path)
    }

    static func storeError(_ error: any Error, path: String) -> StoreError {
        if let known = error as? StoreError { return known }
        guard let database = error as? DatabaseError else { return .database("\(error)") }
        switch database.resultCode {
        case .SQLITE_BUSY, .SQLITE_LOCKED: return .busy(path: path)
        case .SQLITE_READONLY, .SQLITE_CANTOPEN, .SQLITE_PERM: return .readOnly(path: path)
        case .SQLITE_NOTADB, .SQLITE_CORRUPT: return .notAStore(path: path, detail: database.message ?? "\(database)")
        default: return .database(database.message ?? "\(database)")
        }
    }
}
