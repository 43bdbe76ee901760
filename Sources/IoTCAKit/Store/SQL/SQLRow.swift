/// One row read from either engine: its values by position, and its columns' names.
struct SQLRow: Sendable {
    /// Shared by every row of one result.
    final class Columns: Sendable {
        let names: [String]
        let index: [String: Int]
        init(_ names: [String]) {
            self.names = names
            // The first of two equal names wins, as in SQLite (`a.*` then an alias).
            index = Dictionary(names.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        }
    }

    let columns: Columns
    let values: [SQLValue]

    subscript(_ position: Int) -> SQLValue { position < values.count ? values[position] : .null }

    subscript(_ name: String) -> SQLValue { columns.index[name].map { values[$0] } ?? .null }

    /// The column as `T`; nil when it is NULL, missing or of another type.
    func get<T: SQLReadable>(_ name: String, as type: T.Type = T.self) -> T? { T(sqlValue: self[name]) }

    func get<T: SQLReadable>(_ position: Int, as type: T.Type = T.self) -> T? { T(sqlValue: self[position]) }
}
