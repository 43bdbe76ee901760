import Crypto
import Foundation

/// A key pair made ahead of need for the next root CA, with its self-signed certificate. Its
/// SPKI pin (a backup pin) and its certificate (a trust anchor) go into firmware today, so
/// devices keep trusting the fleet after the root is rotated.
public struct StandbyKey: Sendable, Equatable {
    public var name: String
    public var keyAlgorithm: KeyAlgorithm
    public var keyFile: String
    /// Hex SHA-256 of the SubjectPublicKeyInfo.
    public var spkiSHA256: String
    public var createdAt: Date
    /// The certificate `rotate-root` will make the root; nil in stores made before next roots
    /// were certified in advance, until `ca prepare-root` (or the rotation) makes it.
    public var certificateDER: [UInt8]? = nil
}

extension StandbyKey {
    /// The SHA-256 of the next root's certificate, hex, as trust stores and `pins` name it.
    public var certificateSHA256Hex: String? { certificateDER.map { Array(SHA256.hash(data: $0)).hexString } }

    /// A standby_keys row; a value that does not parse is a `StoreError.corruptRow`.
    init(row: SQLRow) throws {
        let read = RowDecoder(row, table: "standby_keys", key: "name")
        self.init(name: try read.value("name"), keyAlgorithm: try read.parsed("key_algorithm", KeyAlgorithm.init(rawValue:)),
                  keyFile: try read.value("key_file"), spkiSHA256: try read.value("spki_sha256"), createdAt: try read.value("created_at"),
                  certificateDER: try read.optional("certificate_der"))
    }
}

extension Store {
    func insertStandbyKey(_ key: StandbyKey) throws {
        try write { db in
            try db.execute("""
                INSERT INTO standby_keys (name, key_algorithm, key_file, spki_sha256, status, created_at, certificate_der)
                VALUES (?, ?, ?, ?, 'standby', ?, ?)
                """, key.name, key.keyAlgorithm.rawValue, key.keyFile, key.spkiSHA256, key.createdAt, key.certificateDER)
            var details = ["key_algorithm": key.keyAlgorithm.rawValue, "spki_sha256": key.spkiSHA256]
            details["certificate_sha256"] = key.certificateDER.map { Array(SHA256.hash(data: $0)).hexString }
            try appendEvent(db, action: "key.standby", subject: key.name, details: details, at: key.createdAt)
        }
    }

    /// Records the certificate made for a standby key of an older store, once: a second caller
    /// (two `prepare-root` at once) finds it set and gets the first one's certificate back.
    func setStandbyCertificate(_ name: String, der: [UInt8], at now: Date) throws -> StandbyKey {
        try write { db in
            let changed = try db.execute("UPDATE standby_keys SET certificate_der = ? WHERE name = ? AND certificate_der IS NULL", der, name)
            if changed > 0 {
                try appendEvent(db, action: "key.standby.certified", subject: name, details: [
                    "certificate_sha256": Array(SHA256.hash(data: der)).hexString,
                ], at: now)
            }
            guard let row = try db.row("SELECT * FROM standby_keys WHERE name = ?", name) else {
                throw StoreError.database("the standby key \(name) went away while it was certified")
            }
            return try StandbyKey(row: row)
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
