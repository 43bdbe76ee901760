import GRDB

/// Versioned migrations. A migration, once released, is never edited: add a new one.
enum StoreSchema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.create(table: "settings") { t in
                t.primaryKey("key", .text)
                t.column("value", .text).notNull()
            }
            try db.create(table: "authorities") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("name", .text).notNull().unique()
                t.column("kind", .text).notNull()  // root | subordinate
                t.column("parent_id", .integer).references("authorities")
                t.column("status", .text).notNull()  // active | disabled | pending | revoked
                t.column("key_algorithm", .text).notNull()
                t.column("key_file", .text).notNull()
                t.column("key_encrypted", .boolean).notNull()
                t.column("certificate_der", .blob)  // nil while an external CA is pending
                t.column("csr_der", .blob)
                t.column("chain_pem", .text)  // external CAs: their issuers as PEM, leaf first
                t.column("subject", .text).notNull()
                t.column("not_before", .datetime)
                t.column("not_after", .datetime)
                t.column("crl_validity_seconds", .integer).notNull().defaults(to: 7 * 86_400)
                t.column("crl_url", .text)
                t.column("ca_issuers_url", .text)
                t.column("next_crl_number", .integer).notNull().defaults(to: 1)
                // Set by every revocation of a certificate this CA issued, cleared by its next CRL:
                // exact even when both happen within one second.
                t.column("crl_stale", .boolean).notNull().defaults(to: true)
                t.column("created_at", .datetime).notNull()
            }
            try db.create(table: "things") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("name", .text).notNull().unique()
                t.column("attributes", .text).notNull().defaults(to: "{}")
                t.column("created_at", .datetime).notNull()
                t.column("updated_at", .datetime).notNull()
            }
            try db.create(table: "certificates") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("serial", .text).notNull()
                t.column("authority_id", .integer).notNull().references("authorities")
                t.column("thing", .text).indexed()  // nil for CA certificates
                t.column("subject_authority", .text)  // the CA a CA certificate certifies
                t.column("template", .text).notNull()
                t.column("subject", .text).notNull()
                t.column("sans", .text).notNull().defaults(to: "[]")
                t.column("key_algorithm", .text).notNull()
                t.column("not_before", .datetime).notNull()
                t.column("not_after", .datetime).notNull().indexed()
                t.column("status", .text).notNull()  // active | revoked
                t.column("revoked_at", .datetime)
                t.column("revocation_reason", .text)
                t.column("invalidity_date", .datetime)
                t.column("fingerprint_sha256", .text).notNull()
                t.column("spki_sha256", .text).notNull()
                t.column("der", .blob).notNull()
                t.column("created_at", .datetime).notNull()
                t.uniqueKey(["authority_id", "serial"])
            }
            try db.create(index: "certificates_authority_status", on: "certificates", columns: ["authority_id", "status"])
            // Partial and covering: a CRL reads only this index, never the certificate rows and
            // their DER, and it holds revoked certificates only.
            try db.create(
                index: "certificates_revoked", on: "certificates",
                columns: ["authority_id", "not_after", "serial", "revoked_at", "revocation_reason", "invalidity_date", "status"],
                condition: Column("status") == "revoked")
            try db.create(table: "crls") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("authority_id", .integer).notNull().references("authorities")
                t.column("number", .integer).notNull()
                t.column("this_update", .datetime).notNull()
                t.column("next_update", .datetime).notNull()
                t.column("entries", .integer).notNull()
                t.column("sha256", .text).notNull()
                t.column("der", .blob)  // kept for the latest CRLs only; older ones keep their hash
                t.uniqueKey(["authority_id", "number"])
            }
            // Keys made in advance for the next root: their SPKI pins ship in firmware as backup
            // pins before any certificate exists for them (`iotca pins`, `iotca ca rotate-root`).
            try db.create(table: "standby_keys") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("name", .text).notNull().unique()
                t.column("key_algorithm", .text).notNull()
                t.column("key_file", .text).notNull()
                t.column("spki_sha256", .text).notNull()
                t.column("status", .text).notNull()  // standby | used
                t.column("created_at", .datetime).notNull()
            }
            try db.create(table: "events") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("at", .text).notNull()
                t.column("action", .text).notNull()
                t.column("subject", .text).notNull()
                t.column("details", .text).notNull()
                t.column("prev_hash", .text).notNull()
                t.column("hash", .text).notNull()
            }
        }
        migrator.registerMigration("v2-delivery") { db in
            // Certificates from before this migration were delivered as far as anyone knows.
            try db.alter(table: "certificates") { t in
                t.add(column: "delivery", .text).notNull().defaults(to: "written")  // recorded | written
                t.add(column: "delivery_target", .text)  // FORMAT:PATH the bundle goes to
            }
            try db.create(index: "certificates_recorded", on: "certificates", columns: ["thing"],
                          condition: Column("delivery") == "recorded")
        }
        migrator.registerMigration("v3-client-grants") { db in
            // What each station (by its thing name) may issue: TEMPLATE and a thing-name pattern.
            try db.create(table: "client_grants") { t in
                t.column("client", .text).notNull()
                t.column("template", .text).notNull()
                t.column("pattern", .text).notNull()
                t.primaryKey(["client", "template", "pattern"])
            }
        }
        migrator.registerMigration("v4-serial-index") { db in
            // Serials are unique per CA (authority_id, serial), but revoke, show and the
            // service's client check look a serial up without its CA: without this index each
            // of them read every certificate row, DER and all.
            try db.create(index: "certificates_serial", on: "certificates", columns: ["serial"])
        }
        migrator.registerMigration("v5-ocsp") { db in
            // Where `iotca serve` answers OCSP for the CA; CAs made from now on with a public
            // URL get PUBLIC/ocsp. Older CAs keep certificates without it until `ca set
            // --ocsp-url`: their public URL may be a plain web server with no responder, and a
            // relying party that requires OCSP (nginx ssl_ocsp) would refuse every device.
            try db.alter(table: "authorities") { t in t.add(column: "ocsp_url", .text) }
        }
        migrator.registerMigration("v5-revocation-epoch") { db in
            // A responder that caches answers must learn of a revocation at once, whichever
            // process made it (the CLI on the CA host, another node): the store counts every
            // change of a certificate's or a CA's status, and the responder compares counts.
            try db.execute(sql: """
                INSERT OR IGNORE INTO settings (key, value) VALUES ('revocation_epoch', '0');
                CREATE TRIGGER revocation_epoch_certificates AFTER UPDATE OF status, revoked_at, revocation_reason ON certificates
                BEGIN UPDATE settings SET value = CAST(value AS INTEGER) + 1 WHERE key = 'revocation_epoch'; END;
                CREATE TRIGGER revocation_epoch_authorities AFTER UPDATE ON authorities
                BEGIN UPDATE settings SET value = CAST(value AS INTEGER) + 1 WHERE key = 'revocation_epoch'; END;
                CREATE TRIGGER revocation_epoch_new_authority AFTER INSERT ON authorities
                BEGIN UPDATE settings SET value = CAST(value AS INTEGER) + 1 WHERE key = 'revocation_epoch'; END;
                """)
        }
        migrator.registerMigration("v6-enrolment-tokens") { db in
            // One-time secrets a device enrols with (EST, HTTP Basic): one per thing, the
            // secret's SHA-256 only, deleted when spent.
            try db.create(table: "enrolment_tokens") { t in
                t.primaryKey("thing", .text)
                t.column("template", .text).notNull()
                t.column("secret_sha256", .text).notNull()
                t.column("expires_at", .text).notNull()
                t.column("created_at", .text).notNull()
            }
            // Certificates a device replaced itself (EST re-enrolment), to be revoked as
            // superseded once the template's grace period has passed.
            try db.create(table: "scheduled_supersessions") { t in
                t.primaryKey("certificate_id", .integer).references("certificates", onDelete: .cascade)
                t.column("due_at", .text).notNull()
            }
        }
        migrator.registerMigration("v7-on-publish") { db in
            // What to run after a CA's CRL is written, so running servers read it.
            try db.alter(table: "authorities") { t in t.add(column: "on_publish", .text) }
        }
        migrator.registerMigration("v8-next-keys") { db in
            // The key prepared to succeed a certificate's key (its private key is in the bundle
            // only): the backup pin clients of a server compile in.
            try db.create(table: "next_keys") { t in
                t.primaryKey("certificate_id", .integer).references("certificates", onDelete: .cascade)
                t.column("spki_sha256", .text).notNull()
            }
        }
        migrator.registerMigration("v9-claim-openings") { db in
            // A claim enrols only things that never had a certificate; an operator re-opens one
            // (`thing reopen`) for a single enrolment by a claim.
            try db.create(table: "claim_openings") { t in
                t.primaryKey("thing", .text)
                t.column("created_at", .text).notNull()
            }
        }
        migrator.registerMigration("v10-next-root-certificates") { db in
            // The next root's self-signed certificate, made with its key: firmware built today
            // carries it as a trust anchor, and `rotate-root` makes that very DER the root.
            try db.alter(table: "standby_keys") { t in t.add(column: "certificate_der", .blob) }
        }
        migrator.registerMigration("v11-fleet-indexes") { db in
            // `list --template`, `--ca` and `--status revoked` answer from an index (SQLite's
            // indexes end in the rowid, so each also yields rows in the order listings stream):
            // a fleet's query costs what it returns, not a scan of every DER. No index on the
            // status alone: two values over the fleet, and the planner, without statistics,
            // took it over the thing's index for every issuance (found by iotca-bench fleet).
            try db.create(index: "certificates_template", on: "certificates", columns: ["template"])
            try db.create(index: "certificates_authority", on: "certificates", columns: ["authority_id"])
            try db.execute(sql: "CREATE INDEX certificates_revoked_order ON certificates (id) WHERE status = 'revoked'")
        }
        migrator.registerMigration("v12-lean-rows", migrate: leanRows)
        migrator.registerMigration("v13-cmp") { db in
            // CMP protects a first enrolment with a MAC keyed by the token, so the CA needs the
            // token itself, not only its hash (as EJBCA keeps CMP shared secrets); kept until
            // the token is spent or replaced.
            try db.alter(table: "enrolment_tokens") { t in t.add(column: "mac_secret", .text) }
            // Certificates sent in a CMP answer and not yet confirmed (certConf): withdrawn if
            // the confirmation rejects them or does not come in time.
            try db.execute(sql: CMPSchema.confirmations)
            try db.execute(sql: CMPSchema.nonces)
        }
        return migrator
    }
}
