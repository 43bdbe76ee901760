import Foundation
import GRDB
@testable import IoTCAKit
import Testing

/// The hand-written time formats must equal what the Foundation and GRDB formatters they
/// replaced wrote, or stored times would stop comparing and parsing as before.
@Suite struct CivilTimeTests {
    @Test func formatsEqualFoundationAndGRDB() throws {
        var generator = SystemRandomNumberGenerator()
        let samples = [0, 946_684_799, 951_782_400, 1_795_000_000, 2_524_607_999, 4_102_444_800]
            .map { Date(timeIntervalSince1970: Double($0)) }
            + (0..<500).map { _ in Date(timeIntervalSince1970: Double.random(in: 0...4_102_444_800, using: &generator)) }
        for date in samples {
            let whole = Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down))
            #expect(CivilTime(date).rfc3339 == whole.formatted(.iso8601))
            #expect(CivilTime.storeText(whole) == (whole.databaseValue.storage.value as? String))
            #expect(Date.fromDatabaseValue(CivilTime.storeText(whole).databaseValue) == whole)
            let eventFormat = whole.formatted(.iso8601.year().month().day().dateSeparator(.dash)
                .time(includingFractionalSeconds: true).timeSeparator(.colon).timeZone(separator: .omitted))
            #expect(CivilTime.eventText(whole) == eventFormat)
        }
    }
}
