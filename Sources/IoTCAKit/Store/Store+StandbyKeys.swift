import Foundation

/// A key pair made ahead of need for the next root CA. Its SPKI pin goes into firmware as a
/// backup pin today, so devices keep trusting the fleet after the root is rotated.
public struct StandbyKey: Sendable, Equatable {
    public var name: String
    public var keyAlgorithm: KeyAlgorithm
    public var keyFile: String
    /// Hex SHA-256 of the SubjectPublicKeyInfo.
    public var spkiSHA256: String
    public var createdAt: Date
}

extension StandbyKey {
    /// A standby_keys row; a value that does not parse is a `StoreError.corruptRow`.
    init(row: SQLRow) throws {
        let read = RowDecoder(row, table: "standby_keys", key: "name")
        self.init(name: try read.value("name"), keyAlgorithm: try read.parsed("key_algorithm", KeyAlgorithm.init(rawValue:)),
                  keyFile: try read.value("key_file"), spkiSHA256: try read.value("spki_sha256"), createdAt: try read.value("created_at"))
    }
}

extension Store {
    func insertStandbyKey(_ key: StandbyKey) throws {
        try write { db in
            try db.execute("""
                INSERT INTO standby_keys (name, key_algorithm, key_file, spki_sha256, status, created_at)
                VALUES (?, ?, ?, ?, 'standby', ?)
                """, key.name, key.keyAlgorithm.rawValue, key.keyFile, key.spkiSHA256, key.createdAt)
            try appendEvent(db, action: "key.standby", subject: key.name, details: [
                "key_algorithm": key.keyAlgorithm.rawValue, "spki_sha256": key.spkiSHA256,
            ], at: key.createdAt)
        }
    }

    /// The keys waiting to become roots; with `includingUsed`, also those that did.
    public func standbyKeys(includingUsed: Bool = false) throws -> [StandbyKey] {
        try readOne { db in
            try db.rows("SELECT * FROM standby_keys" + (includingUsed ? "" : " WHERE status = 'standby'") + " ORDER BY id")
                .map { try StandbyKey(row: $0) }
        }
    }

    func allStandbyKeyNames() throws -> [String] {
        try readOne { db in try db.values(String.self, "SELECT name FROM standby_keys") }
    }

    /// Marks a standby key used inside the transaction that records the root it became.
    static func useStandbyKey(_ db: any SQLConnection, name: String) throws {
        try db.execute("UPDATE standby_keys SET status = 'used' WHERE name = ?", name)
    }
}
