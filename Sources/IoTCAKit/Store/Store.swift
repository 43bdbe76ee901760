import Foundation

/// The record of a CA: authorities, things, certificates, CRLs and the audit log, in one
/// database (`StoreDatabase`: SQLite in the store folder, or a shared PostgreSQL). Only this
/// folder of the library knows SQL; everything else talks to the store through its record
/// types and operations. Several processes may share a store: every write is one
/// transaction per logical operation, serialized against every other writer.
public final class Store: Sendable {
    public let layout: StoreLayout
    let database: any StoreDatabase
    /// Opened read-only (no write access to the store): reads work, every write fails.
    public var isReadOnly: Bool { database.isReadOnly }
    /// The time every operation on this store reads (injected by tests).
    public let clock: WallClock
    /// Issuances recorded by several threads at once share a transaction.
    let commits = GroupCommit()

    private init(layout: StoreLayout, clock: WallClock) throws(StoreError) {
        self.layout = layout
        self.clock = clock
        database = try SQLiteDatabase(path: layout.database.path)
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
            try store.write { db in try db.execute("INSERT INTO settings (key, value) VALUES ('organization', ?)", organization) }
        } catch {
            throw error as? StoreError ?? .database("\(error)")
        }
        return store
    }

    /// Closes the database so the folder can be renamed or removed.
    func close() throws(StoreError) { try database.close() }

    public func organization() throws -> String {
        try setting("organization") ?? "iotca"
    }

    // MARK: - Transactions

    /// One write transaction, serialized against every other writer of this record.
    @discardableResult
    func write<T>(_ body: (any SQLConnection) throws -> T) throws -> T { try database.write(body) }

    /// One read transaction: one snapshot.
    func read<T>(_ body: (any SQLConnection) throws -> T) throws -> T { try database.read(body) }

    // MARK: - Audit log

    /// Appends an audit event inside the caller's transaction, chained to the previous one.
    func appendEvent(_ db: any SQLConnection, action: String, subject: String, details: [String: String] = [:], at date: Date? = nil) throws {
        var lastHash: String?
        try appendEvent(db, action: action, subject: subject, details: details, at: date ?? clock.now(), lastHash: &lastHash)
    }

    /// `lastHash` carries the chain's end through a transaction that appends many events: nil
    /// reads it from the table; it holds the new event's hash afterwards.
    func appendEvent(_ db: any SQLConnection, action: String, subject: String, details: [String: String], at date: Date,
                     lastHash: inout String?) throws {
        let previous: String
        if let lastHash {
            previous = lastHash
        } else {
            previous = try db.value(String.self, "SELECT hash FROM events ORDER BY id DESC LIMIT 1") ?? AuditEvent.genesisHash
        }
        let at = Self.timestamp(date)
        var details = details
        if let client = AuditEvent.client { details["client"] = client }
        let detailText = CompactJSON.object(details)
        let hash = AuditEvent.hash(previous: previous, at: at, action: action, subject: subject, details: detailText)
        try db.execute("INSERT INTO events (at, action, subject, details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?)",
                       [.text(at), .text(action), .text(subject), .text(detailText), .text(previous), .text(hash)])
        lastHash = hash
    }

    public func events() throws -> [AuditEvent] {
        try read { db in
            try db.rows("SELECT id, at, action, subject, details, prev_hash, hash FROM events ORDER BY id").map { row in
                let read = RowDecoder(row, table: "events", key: "id")
                return AuditEvent(id: try read.value("id"), at: try read.value("at"), action: try read.value("action"),
                                  subject: try read.value("subject"), details: try read.value("details"),
                                  previousHash: try read.value("prev_hash"), hash: try read.value("hash"))
            }
        }
    }

    static func timestamp(_ date: Date) -> String { CivilTime.eventText(date) }
}

extension Store {
    public func setting(_ key: String) throws -> String? {
        try read { db in try db.value(String.self, "SELECT value FROM settings WHERE key = ?", key) }
    }

    func setSetting(_ key: String, _ value: String) throws {
        try write { db in
            try db.execute("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                           key, value)
        }
    }
}
