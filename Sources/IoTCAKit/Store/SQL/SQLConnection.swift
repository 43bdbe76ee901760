/// One transaction on the store's database, whichever engine holds it. The store's SQL is
/// written once, in the dialect SQLite and PostgreSQL share (`?` placeholders, `ON CONFLICT`,
/// `RETURNING`, `TRUE`/`FALSE`, `IS NOT DISTINCT FROM`); the PostgreSQL connection numbers
/// the placeholders. So every invariant the store keeps is coded in one place.
protocol SQLConnection: AnyObject {
    /// Runs a statement that returns no rows; returns how many rows it changed.
    @discardableResult
    func execute(_ sql: String, _ arguments: [SQLValue]) throws -> Int
    /// Every row of a query.
    func rows(_ sql: String, _ arguments: [SQLValue]) throws -> [SQLRow]
    /// Streams the rows of a query, a page at a time at most: a fleet-wide read (`list`,
    /// `audit`, `doctor`) holds one row, not the fleet. On PostgreSQL it needs a transaction
    /// (`Store.read`): the rows come through a cursor.
    func forEachRow(_ sql: String, _ arguments: [SQLValue], _ body: (SQLRow) throws -> Void) throws
    /// Streams the rows of a query whose columns are all text (or NULL), without making a
    /// `String` per value: `body` reads each row's bytes while it runs (a million CRL entries).
    func forEachTextRow(_ sql: String, _ arguments: [SQLValue], _ body: (any SQLTextRow) throws -> Void) throws
}

/// A row of text columns, valid only inside the `forEachTextRow` callback.
protocol SQLTextRow {
    /// The UTF-8 bytes of column `index`; empty for NULL.
    func utf8<R>(_ index: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R
}

extension SQLConnection {
    @discardableResult
    func execute(_ sql: String, _ arguments: any SQLBindable...) throws -> Int {
        try execute(sql, arguments.map(\.sqlValue))
    }

    func rows(_ sql: String, _ arguments: any SQLBindable...) throws -> [SQLRow] {
        try rows(sql, arguments.map(\.sqlValue))
    }

    func row(_ sql: String, _ arguments: any SQLBindable...) throws -> SQLRow? {
        try rows(sql, arguments.map(\.sqlValue)).first
    }

    /// The first column of the first row, as `T`; nil for no row or NULL.
    func value<T: SQLReadable>(_ type: T.Type = T.self, _ sql: String, _ arguments: any SQLBindable...) throws -> T? {
        try rows(sql, arguments.map(\.sqlValue)).first.flatMap { $0.get(0) }
    }

    /// The first column of every row, as `T` (NULLs left out).
    func values<T: SQLReadable>(_ type: T.Type = T.self, _ sql: String, _ arguments: any SQLBindable...) throws -> [T] {
        try rows(sql, arguments.map(\.sqlValue)).compactMap { $0.get(0) }
    }
}
