import Foundation

/// UTC calendar fields from Unix seconds without Foundation's calendar machinery, which is
/// too slow for a million CRL entries (days-from-civil, Howard Hinnant's algorithm).
struct CivilTime {
    let year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int

    init(_ unixSeconds: Int64) {
        let days = Int(unixSeconds >= 0 ? unixSeconds / 86_400 : (unixSeconds - 86_399) / 86_400)
        let secondsOfDay = Int(unixSeconds - Int64(days) * 86_400)
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        hour = secondsOfDay / 3_600
        minute = secondsOfDay % 3_600 / 60
        second = secondsOfDay % 60
    }

    func appendMonthToSecond(to writer: inout DERWriter) {
        writer.twoDigits(month)
        writer.twoDigits(day)
        writer.twoDigits(hour)
        writer.twoDigits(minute)
        writer.twoDigits(second)
        writer.zulu()
    }

    init(_ date: Date) { self.init(Int64(date.timeIntervalSince1970.rounded(.down))) }

    /// RFC 3339 in UTC, e.g. `2026-11-25T08:00:00Z`: what `Date.formatted(.iso8601)` prints.
    var rfc3339: String { text(dateTimeSeparator: UInt8(ascii: "T"), milliseconds: nil, zulu: true) }

    /// `2026-11-25T08:00:00.000Z`: the audit events' time.
    static func eventText(_ date: Date) -> String { withMilliseconds(date, separator: UInt8(ascii: "T"), zulu: true) }

    /// `2026-11-25 08:00:00.000`: GRDB's storage format for dates, so rows written with this
    /// text read back as the same `Date` and compare in SQL like GRDB's own.
    static func storeText(_ date: Date) -> String { withMilliseconds(date, separator: UInt8(ascii: " "), zulu: false) }

    /// The `Date` of a stored date text: `YYYY-MM-DD HH:MM:SS.SSS`, as GRDB writes it, with or
    /// without seconds and milliseconds, with a space or a `T`; nil for anything else.
    static func storeDate(_ text: String) -> Date? {
        let utf8 = Array(text.utf8)
        guard utf8.count >= 16, utf8[4] == 0x2D, utf8[7] == 0x2D, utf8[10] == 0x20 || utf8[10] == 0x54, utf8[13] == 0x3A else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= utf8.count else { return nil }
            var value = 0
            for byte in utf8[range] {
                guard (0x30...0x39).contains(byte) else { return nil }
                value = value * 10 + Int(byte - 0x30)
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10), let hour = number(11..<13),
              let minute = number(14..<16), (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60 else { return nil }
        var second = 0, fraction = 0.0
        var end = 16
        if utf8.count > 16 {
            guard utf8[16] == 0x3A, let value = number(17..<19), value < 61 else { return nil }
            second = value
            end = 19
            if utf8.count > 19 && utf8[19] == 0x2E {
                var digits = 20, scale = 0.1
                while digits < utf8.count, (0x30...0x39).contains(utf8[digits]) {
                    fraction += Double(utf8[digits] - 0x30) * scale
                    scale /= 10
                    digits += 1
                }
                end = digits
            }
        }
        if end < utf8.count && utf8[end] == 0x5A { end += 1 }
        guard end == utf8.count else { return nil }
        let seconds = unixSeconds(year: year, month: month, day: day) + Int64(hour * 3_600 + minute * 60 + second)
        return Date(timeIntervalSince1970: TimeInterval(seconds) + fraction)
    }

    /// Days-from-civil (Howard Hinnant), the inverse of `init(_:)`, in Unix seconds at midnight.
    static func unixSeconds(year: Int, month: Int, day: Int) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return Int64(era * 146_097 + dayOfEra - 719_468) * 86_400
    }

    private static func withMilliseconds(_ date: Date, separator: UInt8, zulu: Bool) -> String {
        let seconds = date.timeIntervalSince1970.rounded(.down)
        let milliseconds = min(999, Int((date.timeIntervalSince1970 - seconds) * 1000))
        return CivilTime(Int64(seconds)).text(dateTimeSeparator: separator, milliseconds: milliseconds, zulu: zulu)
    }

    /// Foundation's ISO 8601 and date formatters cost more per bundle than signing it.
    private func text(dateTimeSeparator: UInt8, milliseconds: Int?, zulu: Bool) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24)
        func digits(_ value: Int, _ count: Int) {
            var divisor = 1
            for _ in 1..<count { divisor *= 10 }
            while divisor > 0 {
                bytes.append(0x30 + UInt8(value / divisor % 10))
                divisor /= 10
            }
        }
        digits(year, 4); bytes.append(UInt8(ascii: "-")); digits(month, 2); bytes.append(UInt8(ascii: "-")); digits(day, 2)
        bytes.append(dateTimeSeparator)
        digits(hour, 2); bytes.append(UInt8(ascii: ":")); digits(minute, 2); bytes.append(UInt8(ascii: ":")); digits(second, 2)
        if let milliseconds { bytes.append(UInt8(ascii: ".")); digits(milliseconds, 3) }
        if zulu { bytes.append(UInt8(ascii: "Z")) }
        return String(decoding: bytes, as: UTF8.self)
    }
}
