import GRDB

extension StoreSchema {
    /// v12: a fleet's rows without what they repeat (1,807 → about 1,420 bytes a certificate at a
    /// million). The two fingerprints are the DER's (read back, they are computed from it, so a
    /// row cannot disagree with its certificate); the serial is indexed once, serial first, so
    /// the per-CA uniqueness also answers the lookups by serial alone that needed a second
    /// index; an event's previous hash is the row before it (readers carry it along the chain).
    /// SQLite cannot change a table's constraints in place: the certificate table is rebuilt as
    /// its documentation says (new table, copy, drop, rename, indexes and trigger again), with
    /// foreign keys off during the migration (GRDB checks them before the commit).
    static func leanRows(_ db: Database) throws {
        let sequence = try Int64.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = 'certificates'")
        try db.execute(sql: """
            CREATE TABLE certificates_lean (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                serial TEXT NOT NULL,
                authority_id INTEGER NOT NULL REFERENCES authorities(id),
                thing TEXT,
                subject_authority TEXT,
                template TEXT NOT NULL,
                subject TEXT NOT NULL,
                sans TEXT NOT NULL DEFAULT '[]',
                key_algorithm TEXT NOT NULL,
                not_before DATETIME NOT NULL,
                not_after DATETIME NOT NULL,
                status TEXT NOT NULL,
                revoked_at DATETIME,
                revocation_reason TEXT,
                invalidity_date DATETIME,
                der BLOB NOT NULL,
                created_at DATETIME NOT NULL,
                delivery TEXT NOT NULL DEFAULT 'written',
                delivery_target TEXT,
                UNIQUE (serial, authority_id));
            INSERT INTO certificates_lean (id, serial, authority_id, thing, subject_authority, template, subject, sans,
                key_algorithm, not_before, not_after, status, revoked_at, revocation_reason, invalidity_date, der,
                created_at, delivery, delivery_target)
            SELECT id, serial, authority_id, thing, subject_authority, template, subject, sans,
                key_algorithm, not_before, not_after, status, revoked_at, revocation_reason, invalidity_date, der,
                created_at, delivery, delivery_target
            FROM certificates ORDER BY id;
            DROP TABLE certificates;
            ALTER TABLE certificates_lean RENAME TO certificates;
            CREATE INDEX certificates_on_thing ON certificates (thing);
            CREATE INDEX certificates_on_not_after ON certificates (not_after);
            CREATE INDEX certificates_authority_status ON certificates (authority_id, status);
            CREATE INDEX certificates_revoked ON certificates
                (authority_id, not_after, serial, revoked_at, revocation_reason, invalidity_date, status)
                WHERE status = 'revoked';
            CREATE INDEX certificates_recorded ON certificates (thing) WHERE delivery = 'recorded';
            CREATE INDEX certificates_template ON certificates (template);
            CREATE INDEX certificates_authority ON certificates (authority_id);
            CREATE INDEX certificates_revoked_order ON certificates (id) WHERE status = 'revoked';
            CREATE TRIGGER revocation_epoch_certificates AFTER UPDATE OF status, revoked_at, revocation_reason ON certificates
            BEGIN UPDATE settings SET value = CAST(value AS INTEGER) + 1 WHERE key = 'revocation_epoch'; END;
            ALTER TABLE events DROP COLUMN prev_hash;
            """)
        // Ids are never reused, even those of rows gone before the copy.
        if let sequence {
            let copied = try Int64.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = 'certificates'") ?? 0
            try db.execute(sql: "DELETE FROM sqlite_sequence WHERE name = 'certificates'")
            try db.execute(sql: "INSERT INTO sqlite_sequence (name, seq) VALUES ('certificates', ?)", arguments: [max(sequence, copied)])
        }
    }
}
