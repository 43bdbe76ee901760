import Foundation

extension Store {
    /// Records `spki` (hex SHA-256) as the key prepared to succeed certificate `serial`'s key.
    func recordNextKey(serial: SerialNumber, authority: String, spki: String) throws {
        try write { db in
            try db.execute("""
                INSERT INTO next_keys (certificate_id, spki_sha256)
                SELECT c.id, ? FROM certificates c JOIN authorities a ON a.id = c.authority_id WHERE c.serial = ? AND a.name = ?
                ON CONFLICT (certificate_id) DO UPDATE SET spki_sha256 = excluded.spki_sha256
                """, spki, serial.hex, authority)
            try appendEvent(db, action: "certificate.next-key", subject: serial.hex, details: ["ca": authority, "spki_sha256": spki])
        }
    }

    /// The next-key pins of `thing`'s active certificates, oldest certificate first.
    public func nextKeyPins(thing: String) throws -> [(serial: SerialNumber, spki: String)] {
        try readOne { db in
            try db.rows("""
                SELECT c.serial, n.spki_sha256 FROM certificates c JOIN next_keys n ON n.certificate_id = c.id
                WHERE c.thing = ? AND c.status = 'active' ORDER BY c.id
                """, thing).compactMap { row in
                guard let serial = row.get("serial", as: String.self).flatMap(SerialNumber.init(hex:)),
                      let spki = row.get("spki_sha256", as: String.self) else { return nil }
                return (serial, spki)
            }
        }
    }
}
