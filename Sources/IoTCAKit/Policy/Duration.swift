import Foundation

/// A validity period written as a number and a unit: `90d`, `12h`, `2w`, `10y`.
/// A year is 365 days, so `1y` is what `openssl -days 365` gives.
public struct ValidityPeriod: Sendable, Equatable, CustomStringConvertible {
    public let seconds: Int64
    public let text: String

    public init(_ text: String) throws(PolicyError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let unit = trimmed.last, let count = Int64(trimmed.dropLast()), count > 0 else {
            throw .invalidDuration(text)
        }
        let unitSeconds: Int64
        switch unit {
        case "s": unitSeconds = 1
        case "m": unitSeconds = 60
        case "h": unitSeconds = 3_600
        case "d": unitSeconds = 86_400
        case "w": unitSeconds = 7 * 86_400
        case "y": unitSeconds = 365 * 86_400
        default: throw .invalidDuration(text)
        }
        // 1000 years is far beyond any X.509 use and keeps the arithmetic from overflowing.
        guard count <= 1_000 * 365 * 86_400 / unitSeconds else { throw .invalidDuration(text) }
        self.seconds = count * unitSeconds
        self.text = trimmed
    }

    public var timeInterval: TimeInterval { TimeInterval(seconds) }
    public var description: String { text }
}
