import GRDB

extension Store {
    /// The serials, delivery states and targets of a thing's active certificates.
    static func activeDeliveries(_ db: Database, thing: String) throws
        -> [(serial: SerialNumber, delivery: CertificateEntry.Delivery, target: String?)] {
        try Row.fetchAll(db, sql: "SELECT serial, delivery, delivery_target FROM certificates WHERE thing = ? AND status = 'active' ORDER BY id",
                         arguments: [thing]).map { row in
            guard let serial = SerialNumber(hex: row["serial"]), let delivery = CertificateEntry.Delivery(rawValue: row["delivery"]) else {
                throw StoreError.corruptRow(table: "certificates", key: row["serial"] ?? "?", detail: "unreadable serial or delivery state")
            }
            return (serial, delivery, row["delivery_target"])
        }
    }

    /// Marks certificates whose bundles are written (and synced): from now on no batch re-run
    /// recovers them.
    public func markWritten(_ serials: [(thing: String, serial: SerialNumber)]) throws {
        guard !serials.isEmpty else { return }
        try write { db in
            var update = try RawStatement(db, sql: "UPDATE certificates SET delivery = 'written' WHERE thing = ? AND serial = ? AND delivery = 'recorded'")
            for (thing, serial) in serials {
                update.bind(1, thing)
                update.bind(2, serial.hex)
                try update.run()
            }
        }
    }

    /// Sets a certificate's delivery state as it is: for tests that stage a crash between a
    /// bundle reaching the disk and the store hearing of it.
    func setDelivery(_ delivery: CertificateEntry.Delivery, thing: String, serial: SerialNumber) throws {
        try write { db in
            try db.execute(sql: "UPDATE certificates SET delivery = ? WHERE thing = ? AND serial = ?",
                           arguments: [delivery.rawValue, thing, serial.hex])
        }
    }

    /// Each thing with an active certificate, and whether every one of them is still
    /// `recorded` for `target` (a batch re-run into the same output may recover those).
    public func activeThings(recoverableFor target: String) throws -> [String: Bool] {
        try read { db in
            var result: [String: Bool] = [:]
            let rows = try Row.fetchCursor(db, sql: """
                SELECT thing, MIN(delivery = 'recorded' AND delivery_target IS ?) AS recoverable FROM certificates
                WHERE status = 'active' AND thing IS NOT NULL GROUP BY thing
                """, arguments: [target])
            while let row = try rows.next() { result[row["thing"]] = row["recoverable"] }
            return result
        }
    }
}
