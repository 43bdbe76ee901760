import Foundation
import GRDB

/// Reads one stored row, throwing `StoreError.corruptRow` for a value that is missing or does
/// not parse, instead of putting a default in its place: a corrupt serial, key type, status or
/// CA kind must reach `doctor`, not turn into an ordinary-looking record.
struct RowDecoder {
    let row: Row
    let table: String
    /// What names the row in messages (a serial, a CA name).
    let key: String

    init(_ row: Row, table: String, key column: String) {
        self.row = row
        self.table = table
        self.key = (row[column] as String?) ?? (row["id"] as Int64?).map { "#\($0)" } ?? "?"
    }

    func corrupt(_ column: String, _ detail: String) -> StoreError {
        .corruptRow(table: table, key: key, detail: "\(column): \(detail)")
    }

    func value<T: DatabaseValueConvertible>(_ column: String, as type: T.Type = T.self) throws -> T {
        do {
            return try row.decode(T.self, forColumn: column)
        } catch {
            throw corrupt(column, "missing or not a \(T.self)")
        }
    }

    func optional<T: DatabaseValueConvertible>(_ column: String, as type: T.Type = T.self) throws -> T? {
        do {
            return try row.decode(T?.self, forColumn: column)
        } catch {
            throw corrupt(column, "not a \(T.self)")
        }
    }

    /// A text column parsed by `parse` (an enum's raw value, a hex serial).
    func parsed<T>(_ column: String, _ parse: (String) -> T?) throws -> T {
        let text: String = try value(column)
        guard let parsed = parse(text) else { throw corrupt(column, "unreadable value \(PolicyError.quoted(text))") }
        return parsed
    }
}
