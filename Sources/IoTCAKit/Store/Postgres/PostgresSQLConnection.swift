import Foundation
import NIOCore
import PostgresNIO
import Synchronization

/// A transaction on PostgreSQL: the store's shared SQL with its `?` placeholders numbered
/// (`$1`, `$2`...), values bound in postgres-nio's binary format, rows read back into the
/// values SQLite would have given (booleans and integers as integers, text, blobs).
final class PostgresSQLConnection: SQLConnection {
    let connection: PostgresConnection

    init(_ connection: PostgresConnection) { self.connection = connection }

    @discardableResult
    func execute(_ sql: String, _ arguments: [SQLValue]) throws -> Int {
        let result = try run(sql, arguments)
        return result.metadata.rows ?? 0
    }

    func rows(_ sql: String, _ arguments: [SQLValue]) throws -> [SQLRow] {
        let result = try run(sql, arguments)
        guard let first = result.rows.first else { return [] }
        let columns = SQLRow.Columns(first.map(\.columnName))
        return try result.rows.map { row in SQLRow(columns: columns, values: try row.map(Self.value)) }
    }

    /// Rows per FETCH: a page in memory, not the result.
    static let fetchSize = 1_000

    func forEachRow(_ sql: String, _ arguments: [SQLValue], _ body: (SQLRow) throws -> Void) throws {
        // A cursor of its own name, so `body` may stream another query meanwhile.
        let cursor = "iotca_rows_\(Self.cursors.add(1, ordering: .relaxed).newValue)"
        try execute("DECLARE \(cursor) NO SCROLL CURSOR FOR " + sql, arguments)
        defer { _ = try? execute("CLOSE \(cursor)", []) }
        while true {
            let page = try rows("FETCH FORWARD \(Self.fetchSize) FROM \(cursor)", [])
            for row in page { try body(row) }
            if page.count < Self.fetchSize { return }
        }
    }

    private static let cursors = Atomic<Int>(0)

    func forEachTextRow(_ sql: String, _ arguments: [SQLValue], _ body: (any SQLTextRow) throws -> Void) throws {
        for row in try run(sql, arguments).rows { try body(TextRow(cells: row.makeRandomAccess())) }
    }

    private struct TextRow: SQLTextRow {
        let cells: PostgresRandomAccessRow
        func utf8<R>(_ index: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
            guard let bytes = cells[index].bytes else { return try body(UnsafeBufferPointer(start: nil, count: 0)) }
            return try bytes.withUnsafeReadableBytes { raw in try body(raw.bindMemory(to: UInt8.self)) }
        }
    }

    private func run(_ sql: String, _ arguments: [SQLValue]) throws -> PostgresQueryResult {
        var binds = PostgresBindings(capacity: arguments.count)
        for argument in arguments {
            switch argument {
            case .null: binds.appendNull()
            case .integer(let number): binds.append(number)
            case .boolean(let flag): binds.append(flag)
            case .real(let number): binds.append(number)
            case .text(let text): binds.append(text)
            case .blob(let bytes): binds.append(ByteBuffer(bytes: bytes))
            }
        }
        let query = PostgresQuery(unsafeSQL: Self.numbered(sql), binds: binds)
        return try PostgresAnswer.wait(on: connection) { $0.query(query, logger: PostgresConnectionPool.logger) }
    }

    /// A statement never answered: its connection closed under it, or went silent.
    typealias ConnectionLost = PostgresConnectionLost

    private static func value(_ cell: PostgresCell) throws -> SQLValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .int2, .int4, .int8, .oid: return .integer(try cell.decode(Int64.self))
        case .bool: return .integer(try cell.decode(Bool.self) ? 1 : 0)
        case .float4, .float8: return .real(try cell.decode(Double.self))
        case .bytea: return .blob(Array(buffer: try cell.decode(ByteBuffer.self)))
        default: return .text(try cell.decode(String.self))
        }
    }

    /// Numbered placeholders, made once per statement text.
    private static let translations = Mutex<[String: String]>([:])

    /// `?` outside quotes becomes `$1`, `$2`...; quoted text and identifiers are left alone.
    static func numbered(_ sql: String) -> String {
        if let known = translations.withLock({ $0[sql] }) { return known }
        var result = "", count = 0
        var quote: Character?
        for character in sql {
            if let open = quote {
                if character == open { quote = nil }
                result.append(character)
            } else if character == "'" || character == "\"" {
                quote = character
                result.append(character)
            } else if character == "?" {
                count += 1
                result += "$\(count)"
            } else {
                result.append(character)
            }
        }
        translations.withLock { cache in
            if cache.count > 512 { cache.removeAll() }
            cache[sql] = result
        }
        return result
    }
}
