import Foundation
import GRDB

extension Store {
    /// Benchmarks only: records `count` revoked certificates of a CA without issuing them
    /// (random serials, mixed reasons, a zeroed DER the size of a real one), so CRL generation can be measured at the
    /// scale of a large fleet without signing a million certificates first.
    @_spi(Benchmark)
    public func seedRevokedCertificates(count: Int, authority name: String, chunkSize: Int = 50_000) throws {
        let authority = try self.authority(named: name)
        let now = clock.now()
        let reasons = RevocationReason.allCases
        var generator = SystemRandomNumberGenerator()
        var done = 0
        while done < count {
            let chunk = min(chunkSize, count - done)
            try write { db in
                let statement = try db.makeStatement(sql: """
                    INSERT INTO certificates (serial, authority_id, thing, template, subject, key_algorithm, not_before,
                        not_after, status, revoked_at, revocation_reason, invalidity_date, fingerprint_sha256, spki_sha256,
                        der, created_at)
                    VALUES (?, ?, ?, 'device', ?, 'ec-p256', ?, ?, 'revoked', ?, ?, ?, '', '', zeroblob(520), ?)
                    """)
                for index in done..<(done + chunk) {
                    let thing = "seed-\(index)"
                    let revokedAt = now.addingTimeInterval(-Double(UInt32.random(in: 0...30_000_000, using: &generator)))
                    try statement.execute(arguments: [
                        SerialNumber.random().hex, authority.id, thing, "CN=\(thing)", now, now.addingTimeInterval(365 * 86_400),
                        revokedAt, reasons[index % reasons.count].rawValue, index % 10 == 0 ? revokedAt : nil, now,
                    ])
                }
            }
            done += chunk
        }
    }
}
