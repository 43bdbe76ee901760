import Foundation

/// A value bound to or read from SQL, in the types both engines share. Dates are stored as
/// text (`CivilTime.storeText`, GRDB's own form), so they read back the same from SQLite and
/// PostgreSQL and compare as text in either.
enum SQLValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
    /// PostgreSQL's boolean columns need a boolean; SQLite stores it as 0 or 1 (and reads
    /// booleans back as integers from both).
    case boolean(Bool)
}

/// What can be bound as an argument.
protocol SQLBindable {
    var sqlValue: SQLValue { get }
}

/// What a column can be read as; nil when the value is NULL or of another type.
protocol SQLReadable {
    init?(sqlValue: SQLValue)
}

extension String: SQLBindable, SQLReadable {
    var sqlValue: SQLValue { .text(self) }
    init?(sqlValue: SQLValue) {
        guard case .text(let text) = sqlValue else { return nil }
        self = text
    }
}

extension Int64: SQLBindable, SQLReadable {
    var sqlValue: SQLValue { .integer(self) }
    init?(sqlValue: SQLValue) {
        switch sqlValue {
        case .integer(let value): self = value
        case .boolean(let value): self = value ? 1 : 0
        // SQLite's type affinity may hand back an integer stored as text (`CAST` aside).
        case .text(let text): guard let value = Int64(text) else { return nil }; self = value
        default: return nil
        }
    }
}

extension Int: SQLBindable, SQLReadable {
    var sqlValue: SQLValue { .integer(Int64(self)) }
    init?(sqlValue: SQLValue) {
        guard let value = Int64(sqlValue: sqlValue) else { return nil }
        self = Int(value)
    }
}

extension Bool: SQLBindable, SQLReadable {
    var sqlValue: SQLValue { .boolean(self) }
    init?(sqlValue: SQLValue) {
        switch sqlValue {
        case .boolean(let value): self = value
        case .integer(let value): self = value != 0
        default: return nil
        }
    }
}

extension Date: SQLBindable, SQLReadable {
    var sqlValue: SQLValue { .text(CivilTime.storeText(self)) }
    init?(sqlValue: SQLValue) {
        guard case .text(let text) = sqlValue, let date = CivilTime.storeDate(text) else { return nil }
        self = date
    }
}

extension Array: SQLBindable where Element == UInt8 {
    var sqlValue: SQLValue { .blob(self) }
}

extension Array: SQLReadable where Element == UInt8 {
    init?(sqlValue: SQLValue) {
        guard case .blob(let bytes) = sqlValue else { return nil }
        self = bytes
    }
}

extension Data: SQLBindable, SQLReadable {
    var sqlValue: SQLValue { .blob(Array(self)) }
    init?(sqlValue: SQLValue) {
        guard case .blob(let bytes) = sqlValue else { return nil }
        self = Data(bytes)
    }
}

extension Optional: SQLBindable where Wrapped: SQLBindable {
    var sqlValue: SQLValue { self?.sqlValue ?? .null }
}
