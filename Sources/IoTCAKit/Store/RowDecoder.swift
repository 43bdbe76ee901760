import Foundation

/// Reads one stored row, throwing `StoreError.corruptRow` for a value that is missing or does
/// not parse, instead of putting a default in its place: a corrupt serial, key type, status or
/// CA kind must reach `doctor`, not turn into an ordinary-looking record.
struct RowDecoder {
    let row: SQLRow
    let table: String
    /// What names the row in messages (a serial, a CA name).
    let key: String

    init(_ row: SQLRow, table: String, key column: String) {
        self.row = row
        self.table = table
        self.key = row.get(column, as: String.self) ?? row.get("id", as: Int64.self).map { "#\($0)" } ?? "?"
    }

    func corrupt(_ column: String, _ detail: String) -> StoreError {
        .corruptRow(table: table, key: key, detail: "\(column): \(detail)")
    }

    func value<T: SQLReadable>(_ column: String, as type: T.Type = T.self) throws -> T {
        guard let value = row.get(column, as: T.self) else { throw corrupt(column, "missing or not a \(T.self)") }
        return value
    }

    func optional<T: SQLReadable>(_ column: String, as type: T.Type = T.self) throws -> T? {
        if case .null = row[column] { return nil }
        guard let value = row.get(column, as: T.self) else { throw corrupt(column, "not a \(T.self)") }
        return value
    }

    /// A text column parsed by `parse` (an enum's raw value, a hex serial).
    func parsed<T>(_ column: String, _ parse: (String) -> T?) throws -> T {
        let text: String = try value(column)
        guard let parsed = parse(text) else { throw corrupt(column, "unreadable value \(PolicyError.quoted(text))") }
        return parsed
    }
}
