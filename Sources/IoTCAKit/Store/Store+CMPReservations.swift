import Foundation

/// A CMP certificate awaiting confirmation is reserved before it is issued and bound after, so
/// a process killed in between leaves a row the timer can finish.
extension Store {
    /// Reserves transaction `transactionID` for a certificate about to be issued to `thing`;
    /// false when the transaction already has one (transactionIdInUse).
    func reserveConfirmation(transactionID: String, thing: String, nonce: String, hold: CMPHold, due: Date) throws -> Bool {
        try write { db in
            try db.execute("""
                INSERT INTO cmp_confirmations (transaction_id, thing, nonce, kind, credential, token_template, token_expires_at, replaces_id, due_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, (SELECT r.id FROM certificates r JOIN authorities ra ON ra.id = r.authority_id
                                             WHERE r.serial = ? AND ra.name = ?), ?)
                ON CONFLICT(transaction_id) DO NOTHING
                """, transactionID, thing, nonce, hold.kind.rawValue, hold.credential, hold.token?.template, hold.token?.expiresAt,
                hold.replaces?.serial.hex, hold.replaces?.authority, due) == 1
        }
    }

    /// Binds the certificate `serial` of CA `authority` to its reservation, with its audit event.
    func bindConfirmation(transactionID: String, serial: SerialNumber, authority: String) throws {
        try write { db in
            try bind(db, transactionID: transactionID, serial: serial, authority: authority)
            let due: Date? = try db.value(Date.self, "SELECT due_at FROM cmp_confirmations WHERE transaction_id = ?", transactionID)
            try appendEvent(db, action: "cmp.confirmation.awaited", subject: serial.hex, details: [
                "ca": authority, "due_at": due.map(Self.timestamp) ?? "",
            ])
        }
    }

    /// Drops a reservation no certificate was issued for.
    func dropReservation(transactionID: String) throws {
        try write { db in _ = try db.execute("DELETE FROM cmp_confirmations WHERE transaction_id = ? AND certificate_id IS NULL", transactionID) }
    }

    private func bind(_ db: any SQLConnection, transactionID: String, serial: SerialNumber, authority: String) throws {
        let bound = try db.execute("""
            UPDATE cmp_confirmations SET certificate_id = (SELECT c.id FROM certificates c JOIN authorities a ON a.id = c.authority_id
                                                           WHERE c.serial = ? AND a.name = ?)
            WHERE transaction_id = ? AND certificate_id IS NULL
            """, serial.hex, authority, transactionID)
        guard bound == 1 else { throw StoreError.database("no reservation of CMP transaction \(transactionID) for certificate \(serial.hex)") }
    }

    /// Reservations past their time without a certificate (a process killed between the
    /// issuance and the binding, or before the issuance): the issuance's audit event names the
    /// transaction in its client; found, the certificate is bound (and then withdrawn with the
    /// others); not found, nothing was issued and the reservation goes. Rare, so a scan of the
    /// thing's issuance events is cheap enough.
    func bindOrphans(_ db: any SQLConnection, now: Date) throws {
        let orphans = try db.rows("SELECT transaction_id, thing FROM cmp_confirmations WHERE certificate_id IS NULL AND due_at <= ?", now)
        for orphan in orphans {
            guard let transaction: String = orphan.get(0), let thing: String = orphan.get(1) else { continue }
            let client = CMPResponder.auditClient(transaction)
            var found: (serial: SerialNumber, authority: String)?
            try db.forEachRow("SELECT details FROM events WHERE subject = ? AND action IN ('certificate.issue', 'certificate.renew') ORDER BY id DESC",
                              [.text(thing)]) { row in
                guard found == nil, let text: String = row.get(0),
                      let details = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any],
                      let named = details["client"] as? String, named.split(separator: " ").contains(Substring(client)),
                      let serial = (details["serial"] as? String).flatMap(SerialNumber.init(hex:)), let authority = details["ca"] as? String else { return }
                found = (serial, authority)
            }
            if let found {
                try bind(db, transactionID: transaction, serial: found.serial, authority: found.authority)
            } else {
                _ = try db.execute("DELETE FROM cmp_confirmations WHERE transaction_id = ?", transaction)
            }
        }
    }
}
