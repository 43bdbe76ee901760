import Foundation
import GRDBSQLite
import Synchronization

/// The store's revocation count (`Store.revocationEpoch`), asked thousands of times a second
/// for the price of a shared-memory read: `PRAGMA data_version` on a connection of its own
/// changes whenever any other connection commits (another process, or this process's writer),
/// and only then is the count read again. Through the connection pool each ask was a read
/// transaction, which cost more than the OCSP answer it guarded. The OCSP status read runs
/// here too, as a statement prepared once.
final class StoreChangeWatch: @unchecked Sendable {
    /// SQLite handles, used only under `lock`.
    private let connection: OpaquePointer
    private let dataVersion: OpaquePointer
    private let epoch: OpaquePointer
    private let status: OpaquePointer
    private struct Seen { var version: Int64 = -1, epoch: Int64 = 0 }
    private let lock = Mutex(Seen())

    init?(path: String) {
        var handle: OpaquePointer?
        guard sqlite3_open_v2(path, &handle, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nil) == SQLITE_OK, let handle else {
            sqlite3_close(handle)
            return nil
        }
        sqlite3_busy_timeout(handle, Int32(SQLiteDatabase.busyTimeout * 1000))
        var version: OpaquePointer?, epoch: OpaquePointer?, status: OpaquePointer?
        guard sqlite3_prepare_v2(handle, "PRAGMA data_version", -1, &version, nil) == SQLITE_OK, let version,
              sqlite3_prepare_v2(handle, "SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'revocation_epoch'", -1, &epoch, nil) == SQLITE_OK,
              let epoch, sqlite3_prepare_v2(handle, StoreQueries.certificateStatus, -1, &status, nil) == SQLITE_OK, let status else {
            sqlite3_finalize(version)
            sqlite3_finalize(epoch)
            sqlite3_close(handle)
            return nil
        }
        connection = handle
        dataVersion = version
        self.epoch = epoch
        self.status = status
    }

    deinit {
        sqlite3_finalize(dataVersion)
        sqlite3_finalize(epoch)
        sqlite3_finalize(status)
        sqlite3_close(connection)
    }

    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    /// The status columns of one certificate (`StoreQueries.certificateStatus`), for OCSP: on
    /// this connection, in microseconds, instead of waiting for one of the pool's, which long
    /// reads (a CRL of a million entries) may all hold. - Throws: `StoreError`.
    func certificateStatus(authorityID: Int64, serial: String) throws -> SQLRow? {
        try lock.withLock { _ throws -> SQLRow? in
            defer { sqlite3_reset(status) }
            var serial = serial
            guard sqlite3_bind_int64(status, 1, authorityID) == SQLITE_OK,
                  serial.withUTF8({ sqlite3_bind_text(status, 2, $0.baseAddress, Int32($0.count), Self.transient) }) == SQLITE_OK else {
                throw StoreError.database(String(cString: sqlite3_errmsg(connection)))
            }
            switch sqlite3_step(status) {
            case SQLITE_ROW: return SQLRow(columns: StoreQueries.certificateStatusColumns, values: (0..<3).map { Self.text(status, $0) })
            case SQLITE_DONE: return nil
            case SQLITE_BUSY, SQLITE_LOCKED: throw StoreError.busy(path: String(cString: sqlite3_db_filename(connection, "main")))
            default: throw StoreError.database(String(cString: sqlite3_errmsg(connection)))
            }
        }
    }

    private static func text(_ statement: OpaquePointer, _ column: Int32) -> SQLValue {
        guard sqlite3_column_type(statement, column) != SQLITE_NULL, let text = sqlite3_column_text(statement, column) else { return .null }
        return .text(String(cString: text))
    }

    /// The revocation count now. - Throws: `StoreError` when SQLite cannot answer.
    func revocationEpoch() throws -> Int64 {
        try lock.withLock { seen throws -> Int64 in
            let version = try Self.integer(dataVersion, connection)
            if version != seen.version {
                seen.epoch = try Self.integer(epoch, connection)
                seen.version = version
            }
            return seen.epoch
        }
    }

    private static func integer(_ statement: OpaquePointer, _ connection: OpaquePointer) throws -> Int64 {
        defer { sqlite3_reset(statement) }
        switch sqlite3_step(statement) {
        case SQLITE_ROW: return sqlite3_column_int64(statement, 0)
        case SQLITE_DONE: return 0
        case SQLITE_BUSY, SQLITE_LOCKED: throw StoreError.busy(path: String(cString: sqlite3_db_filename(connection, "main")))
        default: throw StoreError.database(String(cString: sqlite3_errmsg(connection)))
        }
    }
}
