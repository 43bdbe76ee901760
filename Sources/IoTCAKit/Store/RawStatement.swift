import GRDB
import GRDBSQLite

/// A cached statement bound and stepped through SQLite's C API. A batch records thousands of
/// rows a second, and GRDB's arguments (a boxed DatabaseValue per column, then its execution
/// bookkeeping) cost more than SQLite's own insert.
struct RawStatement {
    private let handle: OpaquePointer
    private let connection: OpaquePointer?
    /// The first bind that failed (a value too big, say): `run` reports it.
    private var bindFailure = SQLITE_OK

    init(_ db: Database, sql: String) throws {
        let statement = try db.cachedStatement(sql: sql)
        handle = statement.sqliteStatement
        connection = db.sqliteConnection
        sqlite3_reset(handle)
    }

    /// SQLite copies the bytes (SQLITE_TRANSIENT): the Swift buffers need not outlive the call.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    mutating func bind(_ index: Int32, _ text: String?) {
        guard var text else {
            check(sqlite3_bind_null(handle, index))
            return
        }
        check(text.withUTF8 { sqlite3_bind_text(handle, index, $0.baseAddress, Int32($0.count), Self.transient) })
    }

    mutating func bind(_ index: Int32, _ value: Int64) {
        check(sqlite3_bind_int64(handle, index, value))
    }

    mutating func bind(_ index: Int32, blob: [UInt8]) {
        check(blob.withUnsafeBytes { sqlite3_bind_blob(handle, index, $0.baseAddress, Int32($0.count), Self.transient) })
    }

    private mutating func check(_ code: Int32) {
        if code != SQLITE_OK && bindFailure == SQLITE_OK { bindFailure = code }
    }

    /// Runs to the end, for statements that return no rows.
    func run() throws {
        defer { sqlite3_reset(handle) }
        guard bindFailure == SQLITE_OK else { throw error(bindFailure) }
        while true {
            let code = sqlite3_step(handle)
            if code == SQLITE_DONE { return }
            guard code == SQLITE_ROW else { throw error(code) }
        }
    }

    /// The first column of every row, as text.
    func texts() throws -> [String] {
        defer { sqlite3_reset(handle) }
        guard bindFailure == SQLITE_OK else { throw error(bindFailure) }
        var values: [String] = []
        while true {
            let code = sqlite3_step(handle)
            if code == SQLITE_DONE { return values }
            guard code == SQLITE_ROW else { throw error(code) }
            if let text = sqlite3_column_text(handle, 0) {
                values.append(String(decoding: UnsafeBufferPointer(start: text, count: Int(sqlite3_column_bytes(handle, 0))), as: UTF8.self))
            }
        }
    }

    private func error(_ code: Int32) -> DatabaseError {
        DatabaseError(resultCode: ResultCode(rawValue: code), message: connection.map { String(cString: sqlite3_errmsg($0)) })
    }
}
