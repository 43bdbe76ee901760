import Foundation
import GRDB

extension Store {
    /// Schedules the certificate `serial` of CA `authority` to be revoked as superseded at `due`.
    func scheduleSupersession(serial: SerialNumber, authority: String, due: Date) throws {
        try write { db in
            try db.execute(sql: """
                INSERT OR REPLACE INTO scheduled_supersessions (certificate_id, due_at)
                SELECT c.id, ? FROM certificates c JOIN authorities a ON a.id = c.authority_id WHERE c.serial = ? AND a.name = ?
                """, arguments: [due, serial.hex, authority])
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
        guard try read({ db in try Bool.fetchOne(db, sql: "SELECT 1 FROM scheduled_supersessions WHERE due_at <= ? LIMIT 1", arguments: [now]) })
                == true else { return [] }
        return try write { db in
            let due = try Row.fetchAll(db, sql: Self.certificateQuery + """
                 JOIN scheduled_supersessions s ON s.certificate_id = c.id WHERE s.due_at <= ? ORDER BY s.due_at
                """, arguments: [now])
            var revoked: [CertificateEntry] = []
            for row in due {
                let id: Int64 = row["id"]
                let entry = try CertificateEntry(row: row)
                if entry.status == .active {
                    revoked += try revokeRows(db, [(id, entry)], reason: .superseded, invalidityDate: nil, at: now)
                }
                try db.execute(sql: "DELETE FROM scheduled_supersessions WHERE certificate_id = ?", arguments: [id])
            }
            return revoked
        }
    }
}
