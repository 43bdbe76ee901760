import Foundation

extension Store {
    /// Schedules the certificate `serial` of CA `authority` to be revoked as superseded at `due`,
    /// or earlier if it already was: a renewal sent again never keeps an old certificate longer.
    func scheduleSupersession(serial: SerialNumber, authority: String, due: Date) throws {
        try write { db in
            try db.execute("""
                INSERT INTO scheduled_supersessions (certificate_id, due_at)
                SELECT c.id, ? FROM certificates c JOIN authorities a ON a.id = c.authority_id WHERE c.serial = ? AND a.name = ?
                ON CONFLICT (certificate_id) DO UPDATE SET due_at = CASE WHEN excluded.due_at < scheduled_supersessions.due_at
                    THEN excluded.due_at ELSE scheduled_supersessions.due_at END
                """, due, serial.hex, authority)
            try appendEvent(db, action: "certificate.supersede.scheduled", subject: serial.hex, details: [
                "ca": authority, "due_at": Self.timestamp(due),
            ])
        }
    }

    /// Revokes (superseded) every scheduled certificate whose time has come, in one transaction;
    /// certificates revoked meanwhile for another reason are just taken off the schedule.
    func supersedeDue(now: Date) throws -> [CertificateEntry] {
        // Asked every minute and at each re-enrolment: mostly nothing is due, which a read says
        // without taking the write lock.
        guard try readOne({ db in try db.row("SELECT 1 FROM scheduled_supersessions WHERE due_at <= ? LIMIT 1", now) }) != nil else {
            return []
        }
        return try write { db in
            let due = try db.rows(Self.certificateQuery + """
                 JOIN scheduled_supersessions s ON s.certificate_id = c.id WHERE s.due_at <= ? ORDER BY s.due_at
                """, now)
            var revoked: [CertificateEntry] = []
            for row in due {
                let id: Int64 = try RowDecoder(row, table: "certificates", key: "serial").value("id")
                let entry = try CertificateEntry(row: row)
                if entry.status == .active {
                    revoked += try revokeRows(db, [(id, entry)], reason: .superseded, invalidityDate: nil, at: now)
                }
                try db.execute("DELETE FROM scheduled_supersessions WHERE certificate_id = ?", id)
            }
            return revoked
        }
    }
}
