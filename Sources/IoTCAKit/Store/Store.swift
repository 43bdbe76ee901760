import Foundation
import GRDB

/// The record of a CA: authorities, things, certificates, CRLs and the audit log, in one SQLite
/// database (WAL, busy timeout) inside the store folder. Only this folder of the library knows
/// SQL; everything else talks to the store through its record types and operations.
/// Several processes may share a store: SQLite's locks arbitrate, and every write is one
/// IMMEDIATE transaction per logical operation.
public final class Store: Sendable {
    public let layout: StoreLayout
    let pool: DatabasePool
    /// Opened read-only (no write access to the store): reads work, every write fails.
    public let isReadOnly: Bool
    /// The time every operation on this store reads (injected by tests).
    public let clock: WallClock
    /// Issuances recorded by several threads at once share a transaction.
    let commits = GroupCommit()

    /// How long a writer waits for another process's transaction before giving up.
    static let busyTimeout: TimeInterval = 15

    private init(layout: StoreLayout, clock: WallClock) throws(StoreError) {
        self.layout = layout
        self.clock = clock
        var configuration = Configuration()
        configuration.busyMode = .timeout(Self.busyTimeout)
        configuration.label = "iotca"
        // FULL: in WAL mode every commit is synced before it returns. A bundle is written only
        // after its row commits, so the row must outlive a power cut whenever the bundle does.
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        do {
            let writable = try DatabasePool(path: layout.database.path, configuration: configuration)
            try StoreSchema.migrator.migrate(writable)
            pool = writable
            isReadOnly = false
        } catch {
            let failure = Self.storeError(error, path: layout.database.path)
            // A store on read-only media or owned by someone else still answers reads (list,
            // show, audit, pins, doctor); every write fails with the read-only error.
            guard failure == .readOnly(path: layout.database.path), let readable = Self.openReadOnly(layout, configuration) else {
                throw failure
            }
            pool = readable
            isReadOnly = true
        }
    }

    /// A read-only connection: plain first, which needs SQLite's WAL index files to exist or be
    /// creatable; else `immutable=1`, for a folder nobody can write to (read-only media, a
    /// backup owned by another user), where SQLite can take no locks at all.
    private static func openReadOnly(_ layout: StoreLayout, _ configuration: Configuration) -> DatabasePool? {
        var configuration = configuration
        configuration.readonly = true
        let path = layout.database.path
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

    /// Opens an existing store.
    public static func open(_ root: URL, clock: WallClock = .system) throws(StoreError) -> Store {
        let layout = StoreLayout(root: root)
        guard FileManager.default.fileExists(atPath: layout.database.path) else {
            throw .notFound(path: layout.root.path)
        }
        return try Store(layout: layout, clock: clock)
    }

    /// Creates the database of a new store in `root`, an empty folder the caller made.
    static func create(_ root: URL, organization: String, clock: WallClock) throws(StoreError) -> Store {
        let store = try Store(layout: StoreLayout(root: root), clock: clock)
        do {
            try store.pool.write { db in
                try db.execute(sql: "INSERT INTO settings (key, value) VALUES ('organization', ?)", arguments: [organization])
            }
        } catch {
            throw storeError(error, path: store.layout.database.path)
        }
        return store
    }

    /// Closes the database so the folder can be renamed or removed.
    func close() throws(StoreError) {
        do { try pool.close() } catch { throw Self.storeError(error, path: layout.database.path) }
    }

    public func organization() throws -> String {
        try setting("organization") ?? "iotca"
    }

    // MARK: - Transactions

    /// One write transaction; library errors thrown inside pass through, database errors
    /// become `StoreError`s a person can act on.
    func write<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try pool.write(body) } catch { throw passThrough(error) }
    }

    func read<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try pool.read(body) } catch { throw passThrough(error) }
    }

    private func passThrough(_ error: any Error) -> any Error {
        error is any IoTCAError ? error : Self.storeError(error, path: layout.database.path)
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

    // MARK: - Audit log

    /// Appends an audit event inside the caller's transaction, chained to the previous one.
    func appendEvent(_ db: Database, action: String, subject: String, details: [String: String] = [:], at date: Date? = nil) throws {
        var lastHash: String?
        try appendEvent(db, action: action, subject: subject, details: details, at: date ?? clock.now(), lastHash: &lastHash)
    }

    /// `lastHash` carries the chain's end through a transaction that appends many events: nil
    /// reads it from the table; it holds the new event's hash afterwards.
    func appendEvent(_ db: Database, action: String, subject: String, details: [String: String], at date: Date,
                     lastHash: inout String?) throws {
        let previous: String
        if let lastHash {
            previous = lastHash
        } else {
            previous = try RawStatement(db, sql: "SELECT hash FROM events ORDER BY id DESC LIMIT 1").texts().first ?? AuditEvent.genesisHash
        }
        let at = Self.timestamp(date)
        var details = details
        if let client = AuditEvent.client { details["client"] = client }
        let detailText = CompactJSON.object(details)
        let hash = AuditEvent.hash(previous: previous, at: at, action: action, subject: subject, details: detailText)
        var insert = try RawStatement(db, sql: "INSERT INTO events (at, action, subject, details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?)")
        for (index, value) in [at, action, subject, detailText, previous, hash].enumerated() { insert.bind(Int32(index + 1), value) }
        try insert.run()
        lastHash = hash
    }

    public func events() throws -> [AuditEvent] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM events ORDER BY id").map { row in
                AuditEvent(id: row["id"], at: row["at"], action: row["action"], subject: row["subject"],
                           details: row["details"], previousHash: row["prev_hash"], hash: row["hash"])
            }
        }
    }

    static func timestamp(_ date: Date) -> String { CivilTime.eventText(date) }
}

extension Store {
    public func setting(_ key: String) throws -> String? {
        try read { db in try String.fetchOne(db, sql: "SELECT value FROM settings WHERE key = ?", arguments: [key]) }
    }

    func setSetting(_ key: String, _ value: String) throws {
        try write { db in
            try db.execute(sql: "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                           arguments: [key, value])
        }
    }
}
