import Foundation
import GRDB

extension Store {
    /// Records `spki` (hex SHA-256) as the key prepared to succeed certificate `serial`'s key.
    func recordNextKey(serial: SerialNumber, authority: String, spki: String) throws {
        try write { db in
            try db.execute(sql: """
                INSERT OR REPLACE INTO next_keys (certificate_id, spki_sha256)
                SELECT c.id, ? FROM certificates c JOIN authorities a ON a.id = c.authority_id WHERE c.serial = ? AND a.name = ?
                """, arguments: [spki, serial.hex, authority])
            try appendEvent(db, action: "certificate.next-key", subject: serial.hex, details: ["ca": authority, "spki_sha256": spki])
        }
    }

    /// The next-key pins of `thing`'s active certificates, oldest certificate first.
    public func nextKeyPins(thing: String) throws -> [(serial: SerialNumber, spki: String)] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT c.serial, n.spki_sha256 FROM certificates c JOIN next_keys n ON n.certificate_id = c.id
                WHERE c.thing = ? AND c.status = 'active' ORDER BY c.id
                """, arguments: [thing]).compactMap { row in
                SerialNumber(hex: row["serial"]).map { ($0, row["spki_sha256"]) }
            }
        }
    }
}
