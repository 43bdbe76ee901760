import Foundation

/// Times given on the command line: RFC 3339 in UTC or with an offset, e.g. 2026-11-20T08:00:00Z.
public enum Timestamp {
    public static func parse(_ text: String, option: String) throws(PolicyError) -> Date {
        if let date = try? Date(text, strategy: .iso8601) { return date }
        throw .invalidOption(option, reason: "\(PolicyError.quoted(text)) is not an RFC 3339 time such as 2026-11-20T08:00:00Z")
    }
}
