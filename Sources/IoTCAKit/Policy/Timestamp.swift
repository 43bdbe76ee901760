import Foundation

/// Times as people and scripts read and write them: RFC 3339, e.g. 2026-11-20T08:00:00Z.
public enum Timestamp {
    /// RFC 3339 in UTC, whole seconds: the one way the library and the CLI print a time.
    public static func format(_ date: Date) -> String { CivilTime(date).rfc3339 }

    public static func parse(_ text: String, option: String) throws(PolicyError) -> Date {
        // RFC 3339 5.6 allows "t" and "z" in lower case; Foundation's parser takes upper case only.
        if let date = try? Date(text.uppercased(), strategy: .iso8601) { return date }
        throw .invalidValue(option, reason: "\(PolicyError.quoted(text)) is not an RFC 3339 time such as 2026-11-20T08:00:00Z")
    }
}
