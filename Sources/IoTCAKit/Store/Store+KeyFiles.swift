import Foundation
import GRDB

extension Store {
    /// The setting that journals an unfinished `passphrase change` (see PassphraseChange).
    static let passphraseChangeJournal = "passphrase_change_journal"

    func deleteSetting(_ key: String) throws {
        try write { db in try db.execute(sql: "DELETE FROM settings WHERE key = ?", arguments: [key]) }
    }

    /// Every key file the store's rows refer to (CAs and standby keys, used or not).
    func referencedKeyFiles() throws -> Set<String> {
        try read { db in
            Set(try String.fetchAll(db, sql: "SELECT key_file FROM authorities UNION SELECT key_file FROM standby_keys"))
        }
    }

    /// Points every row that refers to an old key file at its replacement, marks the keys
    /// encrypted, journals the old files for removal and records the audit event: one
    /// transaction, so the store switches from the old files to the new ones at one instant.
    func swapKeyFiles(_ replacements: [String: String], journal: String, details: [String: String]) throws {
        try write { db in
            for (old, new) in replacements {
                try db.execute(sql: "UPDATE authorities SET key_file = ?, key_encrypted = 1 WHERE key_file = ?", arguments: [new, old])
                try db.execute(sql: "UPDATE standby_keys SET key_file = ? WHERE key_file = ?", arguments: [new, old])
            }
            try db.execute(sql: "INSERT INTO settings (key, value) VALUES ('keys_encrypted', 'true') ON CONFLICT(key) DO UPDATE SET value = 'true'")
            try db.execute(sql: "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                           arguments: [Self.passphraseChangeJournal, journal])
            try appendEvent(db, action: "store.passphrase.change", subject: "keys", details: details)
        }
    }
}
