import Foundation

extension Store {
    /// The setting that journals an unfinished `passphrase change` (see PassphraseChange).
    static let passphraseChangeJournal = "passphrase_change_journal"

    func deleteSetting(_ key: String) throws {
        try write { db in try db.execute("DELETE FROM settings WHERE key = ?", key) }
    }

    /// Every key file the store's rows refer to (CAs and standby keys, used or not).
    func referencedKeyFiles() throws -> Set<String> {
        try readOne { db in
            Set(try db.values(String.self, "SELECT key_file FROM authorities UNION SELECT key_file FROM standby_keys"))
        }
    }

    /// Points every row that refers to an old key file at its replacement, marks the keys
    /// encrypted, journals the old files for removal and records the audit event: one
    /// transaction, so the store switches from the old files to the new ones at one instant.
    func swapKeyFiles(_ replacements: [String: String], journal: String, details: [String: String]) throws {
        try write { db in
            for (old, new) in replacements {
                try db.execute("UPDATE authorities SET key_file = ?, key_encrypted = TRUE WHERE key_file = ?", new, old)
                try db.execute("UPDATE standby_keys SET key_file = ? WHERE key_file = ?", new, old)
            }
            try db.execute("INSERT INTO settings (key, value) VALUES ('keys_encrypted', 'true') ON CONFLICT(key) DO UPDATE SET value = 'true'")
            try db.execute("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                           Self.passphraseChangeJournal, journal)
            try appendEvent(db, action: "store.passphrase.change", subject: "keys", details: details)
        }
    }
}
