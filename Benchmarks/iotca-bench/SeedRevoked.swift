import Foundation
import GRDB
import IoTCAKit

/// Benchmarks only, and so outside the library: writes `count` revoked certificate rows of a CA
/// straight into a store's database (random serials, mixed reasons, a zeroed DER the size of a
/// real one), so CRL generation can be measured at the scale of a large fleet without signing a
/// million certificates first. It knows the schema the way a migration test would.
enum SeedRevoked {
    static func seed(store: URL, count: Int, authority name: String, chunkSize: Int = 50_000) throws {
        let queue = try DatabaseQueue(path: store.appendingPathComponent("iotca.db").path)
        let now = Date()
        let reasons = RevocationReason.allCases
        var generator = SystemRandomNumberGenerator()
        guard let authorityID = try queue.read({ try Int64.fetchOne($0, sql: "SELECT id FROM authorities WHERE name = ?", arguments: [name]) }) else {
            throw AuthorityError.notFound(name)
        }
        var done = 0
        while done < count {
            let chunk = min(chunkSize, count - done)
            try queue.write { db in
                let statement = try db.makeStatement(sql: """
                    INSERT INTO certificates (serial, authority_id, thing, template, subject, key_algorithm, not_before,
                        not_after, status, revoked_at, revocation_reason, invalidity_date, der, created_at)
                    VALUES (?, ?, ?, 'device', ?, 'ec-p256', ?, ?, 'revoked', ?, ?, ?, zeroblob(520), ?)
                    """)
                for index in done..<(done + chunk) {
                    let thing = "seed-\(index)"
                    let revokedAt = now.addingTimeInterval(-Double(UInt32.random(in: 0...30_000_000, using: &generator)))
                    // 20 random bytes, the first below 0x80: a positive serial, as iotca makes them.
                    var serial = (0..<20).map { _ in UInt8.random(in: 0...255, using: &generator) }
                    serial[0] &= 0x7F
                    try statement.execute(arguments: [
                        serial.map { String(format: "%02x", $0) }.joined(), authorityID, thing, "CN=\(thing)", now,
                        now.addingTimeInterval(365 * 86_400), revokedAt, reasons[index % reasons.count].rawValue,
                        index % 10 == 0 ? revokedAt : nil, now,
                    ])
                }
                try db.execute(sql: "UPDATE authorities SET crl_stale = 1 WHERE id = ?", arguments: [authorityID])
            }
            done += chunk
        }
    }
}
