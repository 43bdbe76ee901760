import Foundation
import Synchronization

/// The record of a CA: authorities, things, certificates, CRLs and the audit log, in one
/// database (`StoreDatabase`: SQLite in the store folder, or a shared PostgreSQL). Only this
/// folder of the library knows SQL; everything else talks to the store through its record
/// types and operations. Several processes may share a store: every write is one
/// transaction per logical operation, serialized against every other writer.
public final class Store: Sendable {
    /// The folder of this store (a folder store), or this node's folder (a database store):
    /// where `crl publish` writes the public files and `serve` keeps its own TLS material.
    public let layout: StoreLayout
    let database: any StoreDatabase
    /// Key files, templates and locks: in the folder, or in the shared database.
    let files: any StoreFiles
    /// Opened read-only (no write access to the store): reads work, every write fails.
    public var isReadOnly: Bool { database.isReadOnly }
    /// The time every operation on this store reads (injected by tests).
    public let clock: WallClock
    /// Issuances recorded by several threads at once share a transaction.
    let commits = GroupCommit()
    /// CA row ids by name: a row id never changes once the CA is recorded, and recording an
    /// issuance needs its CA's (a round trip saved per issuance on a shared database).
    let authorityIDs = Mutex<[String: Int64]>([:])
    /// The audit chain's end as this process last appended to it. On PostgreSQL the next event
    /// is appended on the condition that it still is (one statement, where reading it first
    /// took two round trips); another process's append, or a rolled-back one, fails the
    /// condition, and the end is read as before. SQLite reads the end every time (no round trip).
    let chainHead = Mutex<String?>(nil)
    /// Each CA's facts for planning an issuance, by name, with the facts epoch they were read
    /// under (shared stores only; `issuanceFacts`).
    let keptFacts = Mutex<[String: KeptFacts]>([:])
    /// The templates folder's path, stat'ed on every issuance (`templatesVersion`): made once,
    /// not from a URL each time.
    let templatesPath: String

    private init(layout: StoreLayout, clock: WallClock) throws(StoreError) {
        self.layout = layout
        self.clock = clock
        templatesPath = layout.templates.path
        database = try SQLiteDatabase(path: layout.database.path)
        files = FolderFiles(layout: layout)
        location = .folder(layout.root)
    }

    private init(postgres: PostgresLocation, nodeFolder: URL, connections: Int, create: Bool, clock: WallClock) throws(StoreError) {
        layout = StoreLayout(root: nodeFolder)
        self.clock = clock
        templatesPath = layout.templates.path
        let database = try PostgresDatabase(postgres, connections: connections, create: create)
        self.database = database
        files = DatabaseFiles(database: database, clock: clock)
        location = .postgres(postgres, nodeFolder: nodeFolder)
        // This node's copies of the public files are written here (`crl publish`).
        for (folder, mode) in [(layout.root, mode_t(0o700)), (layout.publicFolder, mode_t(0o755))] {
            if mkdir(folder.path, mode) != 0 && errno != EEXIST {
                throw .io(path: folder.path, detail: String(cString: strerror(errno)))
            }
        }
    }

    /// Where this store's record lives.
    public let location: StoreLocation

    /// Whether the record is in a database that several nodes may share.
    public var isShared: Bool { if case .postgres = location { true } else { false } }

    /// Opens an existing store.
    public static func open(_ root: URL, clock: WallClock = .system) throws(StoreError) -> Store {
        try open(.folder(root), clock: clock)
    }

    /// Opens an existing store in a folder or a database; `connections` bounds how many a
    /// database store opens (the service's workers each want one).
    public static func open(_ location: StoreLocation, connections: Int = 4, clock: WallClock = .system) throws(StoreError) -> Store {
        switch location {
        case .folder(let root):
            let layout = StoreLayout(root: root)
            guard FileManager.default.fileExists(atPath: layout.database.path) else {
                throw .notFound(path: layout.root.path)
            }
            return try Store(layout: layout, clock: clock)
        case .postgres(let postgres, let node):
            return try Store(postgres: postgres, nodeFolder: node, connections: connections, create: false, clock: clock)
        }
    }

    /// The empty database store at `postgres`, its schema made: what `init` and `store migrate`
    /// fill in one transaction. - Throws: `StoreError.alreadyExists` when it holds a store.
    static func createShared(_ postgres: PostgresLocation, nodeFolder: URL, clock: WallClock) throws(StoreError) -> Store {
        let store = try Store(postgres: postgres, nodeFolder: nodeFolder, connections: 2, create: true, clock: clock)
        let occupied: Bool
        do {
            occupied = try store.read { db in try db.row("SELECT 1 FROM authorities LIMIT 1") != nil }
        } catch {
            throw error as? StoreError ?? .database("\(error)")
        }
        if occupied {
            try? store.close()
            throw .alreadyExists(path: postgres.description)
        }
        return store
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

    /// Returns free pages to the file system (after an upgrade rebuilt a table, or a mass
    /// deletion): the database's bytes before and after, or nil on an engine that reclaims
    /// space itself. Recorded in the audit log.
    public func compact() throws -> (before: Int64, after: Int64)? {
        guard let sizes = try database.compact() else { return nil }
        try write { db in
            try appendEvent(db, action: "store.compact", subject: "store", details: ["bytes_before": String(sizes.before), "bytes_after": String(sizes.after)])
        }
        return sizes
    }

    public func organization() throws -> String {
        try setting("organization") ?? "iotca"
    }

    // MARK: - Transactions

    /// One write transaction, serialized against every other writer of this record.
    @discardableResult
    func write<T>(_ body: (any SQLConnection) throws -> T) throws -> T { try database.write(body) }

    /// One read transaction: one snapshot.
    func read<T>(_ body: (any SQLConnection) throws -> T) throws -> T { try database.read(body) }

    /// A read of one statement (no snapshot needed: the cheap read on PostgreSQL).
    func readOne<T>(_ body: (any SQLConnection) throws -> T) throws -> T { try database.readOne(body) }

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
        let at = Self.timestamp(date)
        var details = details
        if let client = AuditEvent.client { details["client"] = client }
        let detailText = CompactJSON.object(details)
        func values(after previous: String) -> (String, [SQLValue]) {
            let hash = AuditEvent.hash(previous: previous, at: at, action: action, subject: subject, details: detailText)
            return (hash, [.text(at), .text(action), .text(subject), .text(detailText), .text(hash)])
        }
        if let known = lastHash {
            let (hash, row) = values(after: known)
            try db.execute("INSERT INTO events (at, action, subject, details, hash) VALUES (?, ?, ?, ?, ?)", row)
            return remember(hash, &lastHash)
        }
        // On SQLite the end is read, then the row inserted: a read costs no round trip there, and
        // an INSERT ... SELECT reading its own table opens a temporary b-tree for every event
        // (docs/benchmarks.md). On PostgreSQL one conditional statement saves a round trip.
        if database is PostgresDatabase, let head = chainHead.withLock({ $0 }) {
            let (hash, row) = values(after: head)
            let appended = try db.execute("""
                INSERT INTO events (at, action, subject, details, hash) SELECT ?, ?, ?, ?, ?
                WHERE (SELECT hash FROM events ORDER BY id DESC LIMIT 1) = ?
                """, row + [.text(head)])
            if appended == 1 { return remember(hash, &lastHash) }
        }
        let previous = try db.value(String.self, "SELECT hash FROM events ORDER BY id DESC LIMIT 1") ?? AuditEvent.genesisHash
        let (hash, row) = values(after: previous)
        try db.execute("INSERT INTO events (at, action, subject, details, hash) VALUES (?, ?, ?, ?, ?)", row)
        remember(hash, &lastHash)
    }

    private func remember(_ hash: String, _ lastHash: inout String?) {
        lastHash = hash
        chainHead.withLock { $0 = hash }
    }

    public func events() throws -> [AuditEvent] {
        var events: [AuditEvent] = []
        try forEachEvent { events.append($0) }
        return events
    }

    /// Every event in order, one at a time, from one snapshot. A row stores its own hash only:
    /// the previous hash each event reports is the row before it (the genesis hash for the
    /// first), which is what the chain check compares the event's own hash against.
    public func forEachEvent(_ body: (AuditEvent) throws -> Void) throws {
        var previous = AuditEvent.genesisHash
        try read { db in
            try db.forEachRow(Self.eventQuery, []) { row in
                let event = try Self.event(row, previous: previous)
                previous = event.hash
                try body(event)
            }
        }
    }

    private static let eventQuery = "SELECT id, at, action, subject, details, hash FROM events ORDER BY id"

    private static func event(_ row: SQLRow, previous: String) throws -> AuditEvent {
        let read = RowDecoder(row, table: "events", key: "id")
        return AuditEvent(id: try read.value("id"), at: try read.value("at"), action: try read.value("action"),
                          subject: try read.value("subject"), details: try read.value("details"),
                          previousHash: previous, hash: try read.value("hash"))
    }

    static func timestamp(_ date: Date) -> String { CivilTime.eventText(date) }
}

extension Store {
    public func setting(_ key: String) throws -> String? {
        try readOne { db in try db.value(String.self, "SELECT value FROM settings WHERE key = ?", key) }
    }

    func setSetting(_ key: String, _ value: String) throws {
        try write { db in
            try db.execute("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                           key, value)
        }
    }
}
