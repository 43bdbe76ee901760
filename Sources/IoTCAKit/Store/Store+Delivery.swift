
extension Store {
    /// The serials, delivery states and targets of a thing's active certificates.
    static func activeDeliveries(_ db: any SQLConnection, thing: String) throws
        -> [(serial: SerialNumber, delivery: CertificateEntry.Delivery, target: String?)] {
        try db.rows("SELECT serial, delivery, delivery_target FROM certificates WHERE thing = ? AND status = 'active' ORDER BY id",
                    thing).map { row in
            let read = RowDecoder(row, table: "certificates", key: "serial")
            return (try read.parsed("serial", SerialNumber.init(hex:)), try read.parsed("delivery", CertificateEntry.Delivery.init(rawValue:)),
                    try read.optional("delivery_target"))
        }
    }

    /// Marks certificates whose bundles are written (and synced): from now on no batch re-run
    /// recovers them.
    public func markWritten(_ serials: [(thing: String, serial: SerialNumber)]) throws {
        // Only ever `recorded` to `written`, checked by the statement itself: no other
        // writer's check depends on it, so it need not wait for them. One certificate (an
        // issuance) is one statement, alone; a batch's chunk, one transaction.
        func mark(_ db: any SQLConnection, _ thing: String, _ serial: SerialNumber) throws {
            try db.execute("UPDATE certificates SET delivery = 'written' WHERE thing = ? AND serial = ? AND delivery = 'recorded' AND status = 'active'",
                           [.text(thing), .text(serial.hex)])
        }
        if serials.count == 1, let only = serials.first {
            try database.writeOne { db in try mark(db, only.thing, only.serial) }
            return
        }
        guard !serials.isEmpty else { return }
        try database.writeUnqueued { db in
            for (thing, serial) in serials { try mark(db, thing, serial) }
        }
    }

    /// Sets a certificate's delivery state as it is: for tests that stage a crash between a
    /// bundle reaching the disk and the store hearing of it.
    func setDelivery(_ delivery: CertificateEntry.Delivery, thing: String, serial: SerialNumber) throws {
        try write { db in
            try db.execute("UPDATE certificates SET delivery = ? WHERE thing = ? AND serial = ?", delivery.rawValue, thing, serial.hex)
        }
    }

    /// Each of `things` that holds an active certificate, and whether every one of them is
    /// still `recorded` for `target` (a batch re-run into the same output may recover those).
    /// Asked for the batch's things only, by the thing index: a batch of a thousand into a
    /// fleet of millions reads a thousand rows, not the fleet.
    public func activeThings(recoverableFor target: String, among things: [String]) throws -> [String: Bool] {
        try read { db in
            var result: [String: Bool] = [:]
            for start in stride(from: 0, to: things.count, by: 500) {
                let slice = things[start..<min(start + 500, things.count)]
                let marks = Array(repeating: "?", count: slice.count).joined(separator: ", ")
                for row in try db.rows("""
                    SELECT thing, MIN(CASE WHEN delivery = 'recorded' AND delivery_target IS NOT DISTINCT FROM ? THEN 1 ELSE 0 END) AS recoverable
                    FROM certificates WHERE thing IN (\(marks)) AND status = 'active' GROUP BY thing
                    """, [.text(target)] + slice.map { .text($0) }) {
                    if let thing = row.get("thing", as: String.self) { result[thing] = row.get("recoverable", as: Bool.self) ?? false }
                }
            }
            return result
        }
    }
}
