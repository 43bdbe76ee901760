import GRDB
import GRDBSQLite
import Synchronization

/// The store's own read connections for `readOne`, the reads the service makes on every
/// request (the client's standing, the issuance's facts). Through GRDB's pool each cost more
/// than its query: finding a reader, a dispatch queue hop, a schema-version check (`perf record`
/// of the service issuing: about a tenth of its CPU). Here a read takes an idle connection
/// under a lock, runs its prepared statement and puts the connection back.
final class SQLiteReaders: Sendable {
    private let path: String
    private struct State {
        var idle: [SQLiteReader] = []
        var closed = false
    }
    private let state = Mutex(State())
    /// Connections kept open when idle; more may be open while more threads read at once.
    static let keptIdle = 16

    init(path: String) { self.path = path }

    /// Runs `body` on an idle connection (or a new one). - Throws: `body`'s errors; GRDB's
    /// `DatabaseError` when no connection opens or the store is closed.
    func read<T>(_ body: (SQLiteReader) throws -> T) throws -> T {
        let reader = try take()
        defer { give(reader) }
        return try body(reader)
    }

    private func take() throws -> SQLiteReader {
        let (idle, closed) = state.withLock { state in (state.idle.popLast(), state.closed) }
        guard !closed else { throw Self.closedError }
        if let idle { return idle }
        let opened = try SQLiteReader(path: path)
        // Opened outside the lock: a close meanwhile must not leave it reading the store.
        guard !state.withLock({ $0.closed }) else { throw Self.closedError }
        return opened
    }

    private static var closedError: DatabaseError { DatabaseError(resultCode: .SQLITE_MISUSE, message: "the store is closed") }

    private func give(_ reader: SQLiteReader) {
        // A connection left inside a read (a statement not reset) would hold its snapshot, and
        // the next read would see the store as it was: dropped instead (which closes it).
        guard reader.isIdle else { return }
        state.withLock { state in
            // Dropped too once the store closes or enough wait idle.
            if !state.closed && state.idle.count < Self.keptIdle { state.idle.append(reader) }
        }
    }

    /// Closes the idle connections; one in use closes when its read ends (without waiting for
    /// it, unlike GRDB's pool: the store's own `close` comes after the service has stopped).
    func close() {
        let idle = state.withLock { state in
            state.closed = true
            defer { state.idle = [] }
            return state.idle
        }
        _ = idle  // released here, outside the lock: closing a connection may touch the disk
    }

    /// Reads again after `close` (the store's close failed).
    func reopen() {
        state.withLock { $0.closed = false }
    }
}

/// One read-only SQLite connection with its prepared statements, used by one thread at a time:
/// `SQLiteReaders` hands it to one read and takes it back after.
final class SQLiteReader: SQLiteStatements, @unchecked Sendable {
    private let connection: OpaquePointer
    /// Kept for the connection's life, as GRDB keeps its cached statements, up to
    /// `keptStatements`: some texts carry a value (a listing's LIMIT), and a client choosing
    /// values must not grow the cache without end.
    private var statements: [String: OpaquePointer] = [:]
    private static let keptStatements = 256

    var sqliteHandle: OpaquePointer? { connection }

    /// How many statements are kept prepared (for tests).
    var cachedStatements: Int { statements.count }

    /// Outside any transaction, no statement of it still stepping.
    var isIdle: Bool {
        guard sqlite3_get_autocommit(connection) != 0 else { return false }
        var statement = sqlite3_next_stmt(connection, nil)
        while let current = statement {
            if sqlite3_stmt_busy(current) != 0 { return false }
            statement = sqlite3_next_stmt(connection, current)
        }
        return true
    }

    init(path: String) throws {
        var handle: OpaquePointer?
        let code = sqlite3_open_v2(path, &handle, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nil)
        guard code == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open \(path)"
            sqlite3_close_v2(handle)
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message)
        }
        sqlite3_busy_timeout(handle, Int32(SQLiteDatabase.busyTimeout * 1000))
        connection = handle
    }

    deinit {
        for statement in statements.values { sqlite3_finalize(statement) }
        sqlite3_close_v2(connection)
    }

    func cachedStatement(_ sql: String) throws -> OpaquePointer {
        if let statement = statements[sql] { return statement }
        let statement = try prepare(sql)
        if statements.count >= Self.keptStatements {
            // Only statements not stepping now: a callback may be running other queries while
            // an outer one steps. The one just prepared is not stepped until it is returned.
            for (text, kept) in statements where sqlite3_stmt_busy(kept) == 0 {
                sqlite3_finalize(kept)
                statements[text] = nil
            }
        }
        statements[sql] = statement
        return statement
    }

    func withStatement<R>(_ sql: String, _ body: (OpaquePointer) throws -> R) throws -> R {
        let statement = try prepare(sql)
        defer { sqlite3_finalize(statement) }
        return try body(statement)
    }

    private func prepare(_ sql: String) throws -> OpaquePointer {
        var statement: OpaquePointer?
        let code = sqlite3_prepare_v2(connection, sql, -1, &statement, nil)
        guard code == SQLITE_OK, let statement else {
            sqlite3_finalize(statement)
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(connection)))
        }
        return statement
    }
}
