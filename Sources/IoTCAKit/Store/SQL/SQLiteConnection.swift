import GRDB
import GRDBSQLite

/// SQLite copies the bytes (SQLITE_TRANSIENT): the Swift buffers need not outlive the call.
private let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// A transaction on SQLite: cached statements (GRDB's, or a `SQLiteReader`'s), bound and
/// stepped through SQLite's C API. A batch records thousands of rows a second, and GRDB's
/// arguments (a boxed DatabaseValue per column, then its execution bookkeeping) cost more than
/// SQLite's insert.
final class SQLiteConnection<Source: SQLiteStatements>: SQLConnection {
    let db: Source

    init(_ db: Source) { self.db = db }

    private func prepared(_ sql: String, _ arguments: [SQLValue]) throws -> OpaquePointer {
        let handle = try db.cachedStatement(sql)
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
        for (offset, value) in arguments.enumerated() {
            let code = Self.bind(value, to: handle, at: Int32(offset + 1))
            guard code == SQLITE_OK else { throw error(code) }
        }
        return handle
    }

    private static func bind(_ value: SQLValue, to handle: OpaquePointer, at index: Int32) -> Int32 {
        switch value {
        case .null: return sqlite3_bind_null(handle, index)
        case .integer(let number): return sqlite3_bind_int64(handle, index, number)
        case .boolean(let flag): return sqlite3_bind_int64(handle, index, flag ? 1 : 0)
        case .real(let number): return sqlite3_bind_double(handle, index, number)
        case .text(var text):
            return text.withUTF8 { sqlite3_bind_text(handle, index, $0.baseAddress, Int32($0.count), transient) }
        case .blob(let bytes):
            // A zero-length blob must not bind as NULL (a NULL base address would).
            return bytes.isEmpty ? sqlite3_bind_zeroblob(handle, index, 0)
                : bytes.withUnsafeBytes { sqlite3_bind_blob(handle, index, $0.baseAddress, Int32($0.count), transient) }
        }
    }

    @discardableResult
    func execute(_ sql: String, _ arguments: [SQLValue]) throws -> Int {
        let handle = try prepared(sql, arguments)
        defer { sqlite3_reset(handle) }
        while true {
            let code = sqlite3_step(handle)
            if code == SQLITE_DONE { return Int(sqlite3_changes(db.sqliteHandle)) }
            guard code == SQLITE_ROW else { throw error(code) }
        }
    }

    func rows(_ sql: String, _ arguments: [SQLValue]) throws -> [SQLRow] {
        let handle = try prepared(sql, arguments)
        defer { sqlite3_reset(handle) }
        var rows: [SQLRow] = []
        var columns: SQLRow.Columns?
        while true {
            let code = sqlite3_step(handle)
            if code == SQLITE_DONE { return rows }
            guard code == SQLITE_ROW else { throw error(code) }
            let named = columns ?? Self.columns(handle)
            columns = named
            rows.append(SQLRow(columns: named, values: (0..<Int32(named.names.count)).map { Self.value(handle, $0) }))
        }
    }

    /// The statement's columns, read after its first step: a cached statement that another
    /// connection's schema change outdated is prepared again by that step, and its columns
    /// may differ from before it.
    private static func columns(_ handle: OpaquePointer) -> SQLRow.Columns {
        SQLRow.Columns((0..<sqlite3_column_count(handle)).map { String(cString: sqlite3_column_name(handle, $0)) })
    }

    func forEachRow(_ sql: String, _ arguments: [SQLValue], _ body: (SQLRow) throws -> Void) throws {
        // A statement of its own, not the cached one: `body` may run other queries, even this one.
        try db.withStatement(sql) { handle in
            for (offset, value) in arguments.enumerated() {
                let code = Self.bind(value, to: handle, at: Int32(offset + 1))
                guard code == SQLITE_OK else { throw error(code) }
            }
            var columns: SQLRow.Columns?
            while true {
                let code = sqlite3_step(handle)
                if code == SQLITE_DONE { return }
                guard code == SQLITE_ROW else { throw error(code) }
                let named = columns ?? Self.columns(handle)
                columns = named
                try body(SQLRow(columns: named, values: (0..<Int32(named.names.count)).map { Self.value(handle, $0) }))
            }
        }
    }

    func forEachTextRow(_ sql: String, _ arguments: [SQLValue], _ body: (any SQLTextRow) throws -> Void) throws {
        let handle = try prepared(sql, arguments)
        defer { sqlite3_reset(handle) }
        let row = TextRow(handle: handle)
        while true {
            let code = sqlite3_step(handle)
            if code == SQLITE_DONE { return }
            guard code == SQLITE_ROW else { throw error(code) }
            try body(row)
        }
    }

    private struct TextRow: SQLTextRow {
        let handle: OpaquePointer
        func utf8<R>(_ index: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
            guard let text = sqlite3_column_text(handle, Int32(index)) else { return try body(UnsafeBufferPointer(start: nil, count: 0)) }
            return try body(UnsafeBufferPointer(start: text, count: Int(sqlite3_column_bytes(handle, Int32(index)))))
        }
    }

    private static func value(_ handle: OpaquePointer, _ index: Int32) -> SQLValue {
        switch sqlite3_column_type(handle, index) {
        case SQLITE_INTEGER: return .integer(sqlite3_column_int64(handle, index))
        case SQLITE_FLOAT: return .real(sqlite3_column_double(handle, index))
        case SQLITE_TEXT:
            guard let text = sqlite3_column_text(handle, index) else { return .null }
            return .text(String(decoding: UnsafeBufferPointer(start: text, count: Int(sqlite3_column_bytes(handle, index))), as: UTF8.self))
        case SQLITE_BLOB:
            let count = Int(sqlite3_column_bytes(handle, index))
            guard count > 0, let bytes = sqlite3_column_blob(handle, index) else { return .blob([]) }
            return .blob(Array(UnsafeRawBufferPointer(start: bytes, count: count)))
        default: return .null
        }
    }

    private func error(_ code: Int32) -> DatabaseError {
        DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteHandle)))
    }
}

/// Where a `SQLiteConnection` gets its statements: a connection of GRDB's pool (the writer,
/// `read`'s readers) or one of the store's own readers (`SQLiteReader`).
protocol SQLiteStatements: AnyObject {
    var sqliteHandle: OpaquePointer? { get }
    /// A statement prepared once for this connection and kept: the caller resets it.
    func cachedStatement(_ sql: String) throws -> OpaquePointer
    /// A statement of its own for `body`, finalized after it.
    func withStatement<R>(_ sql: String, _ body: (OpaquePointer) throws -> R) throws -> R
}

extension Database: SQLiteStatements {
    var sqliteHandle: OpaquePointer? { sqliteConnection }

    func cachedStatement(_ sql: String) throws -> OpaquePointer {
        try cachedStatement(sql: sql).sqliteStatement
    }

    func withStatement<R>(_ sql: String, _ body: (OpaquePointer) throws -> R) throws -> R {
        let statement = try makeStatement(sql: sql)
        // The statement finalizes its handle when released: kept until the last step.
        return try withExtendedLifetime(statement) { try body(statement.sqliteStatement) }
    }
}
