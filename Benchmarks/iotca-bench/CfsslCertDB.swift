import Foundation
import GRDB

/// cfssl's own certificate database on SQLite (`cfssl serve -db-config`), so cfssl can be
/// measured recording every certificate it signs, as iotca does. The tables are those of
/// cfssl's SQLite migrations (certdb/sqlite/migrations), with the columns later versions
/// added left nullable, so any cfssl version's insert fits.
struct CfsslCertDB {
    let database: URL
    let config: URL

    init(in folder: URL) throws {
        database = folder.appendingPathComponent("cfssl-certs.db")
        config = folder.appendingPathComponent("cfssl-db.json")
        try? FileManager.default.removeItem(at: database)
        let queue = try DatabaseQueue(path: database.path)
        try queue.write { db in
            try db.execute(sql: """
                CREATE TABLE certificates (
                  serial_number blob NOT NULL, authority_key_identifier blob NOT NULL, ca_label blob,
                  status blob NOT NULL, reason int, expiry timestamp, revoked_at timestamp, pem blob NOT NULL,
                  issued_at timestamp, not_before timestamp, metadata text, sans text, common_name text,
                  PRIMARY KEY (serial_number, authority_key_identifier));
                CREATE TABLE ocsp_responses (
                  serial_number blob NOT NULL, authority_key_identifier blob NOT NULL, body blob NOT NULL,
                  expiry timestamp, PRIMARY KEY (serial_number, authority_key_identifier));
                """)
        }
        try queue.close()
        // The settings iotca's store runs with (write-ahead log, `synchronous=FULL`, a 15 s busy
        // timeout), through go-sqlite3's connection string: as shipped, cfssl's database takes
        // one rollback journal per insert and its connections fail on each other's locks.
        let settings = ["driver": "sqlite3",
                        "data_source": "file:\(database.path)?_journal_mode=WAL&_synchronous=FULL&_busy_timeout=15000"]
        try JSONSerialization.data(withJSONObject: settings).write(to: config)
    }

    /// How many certificates cfssl recorded: a row measured without its record would flatter it.
    func recorded() throws -> Int {
        let queue = try DatabaseQueue(path: database.path)
        defer { try? queue.close() }
        return try queue.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM certificates") } ?? 0
    }
}
