import Foundation

/// The table of certificates awaiting a CMP confirmation (both engines).
enum CMPSchema {
    static let confirmations = """
        CREATE TABLE cmp_confirmations (
            certificate_id INTEGER PRIMARY KEY REFERENCES certificates(id) ON DELETE CASCADE,
            transaction_id TEXT NOT NULL UNIQUE,
            nonce TEXT NOT NULL,
            credential TEXT NOT NULL,
            due_at TEXT NOT NULL)
        """
}

/// A certificate sent in a CMP answer that its client has not confirmed yet.
struct PendingConfirmation: Sendable {
    let serial: SerialNumber
    let authority: String
    let thing: String?
    /// The certificate, whose hash certConf must carry.
    let der: [UInt8]
    /// The answer's senderNonce, which the certConf's recipNonce must repeat, hex.
    let nonce: String
    /// How the request was protected, which the certConf must be too: `mac:SECRET` or
    /// `cert:SHA256` of the signer's certificate.
    let credential: String
    let due: Date
}

extension Store {
    /// Holds `serial` of CA `authority` until confirmed in transaction `transactionID`.
    func holdForConfirmation(serial: SerialNumber, authority: String, transactionID: String, nonce: String,
                             credential: String, due: Date) throws {
        try write { db in
            let held = try db.execute("""
                INSERT INTO cmp_confirmations (certificate_id, transaction_id, nonce, credential, due_at)
                SELECT c.id, ?, ?, ?, ? FROM certificates c JOIN authorities a ON a.id = c.authority_id WHERE c.serial = ? AND a.name = ?
                """, transactionID, nonce, credential, due, serial.hex, authority)
            guard held == 1 else { throw StoreError.database("certificate \(serial.hex) of \(authority) is not in the store") }
            try appendEvent(db, action: "cmp.confirmation.awaited", subject: serial.hex, details: [
                "ca": authority, "due_at": Self.timestamp(due),
            ])
        }
    }

    /// The certificate awaiting confirmation in `transactionID`, if any.
    func pendingConfirmation(transactionID: String) throws -> PendingConfirmation? {
        try readOne { db -> PendingConfirmation? in
            guard let row = try db.row("""
                SELECT c.serial, a.name, c.thing, c.der, p.nonce, p.credential, p.due_at FROM cmp_confirmations p
                JOIN certificates c ON c.id = p.certificate_id JOIN authorities a ON a.id = c.authority_id WHERE p.transaction_id = ?
                """, transactionID) else { return nil }
            let read = RowDecoder(row, table: "cmp_confirmations", key: transactionID)
            return PendingConfirmation(serial: try read.parsed("serial", SerialNumber.init(hex:)), authority: try read.value("name"),
                                       thing: try read.optional("thing"), der: try read.value("der"),
                                       nonce: try read.value("nonce"), credential: try read.value("credential"), due: try read.value("due_at"))
        }
    }

    /// Ends the wait of `transactionID`: confirmed, the certificate stands; rejected, it is
    /// revoked (cessationOfOperation) in the same transaction. Returns the revoked entry, and
    /// false when the wait had already ended (confirmed twice, or withdrawn meanwhile).
    func settleConfirmation(transactionID: String, accepted: Bool, reason: String?, at now: Date) throws -> (settled: Bool, revoked: [CertificateEntry]) {
        try write { db in
            let rows = try db.rows(Self.certificateQuery + " JOIN cmp_confirmations p ON p.certificate_id = c.id WHERE p.transaction_id = ?",
                                   transactionID)
            guard let row = rows.first else { return (false, []) }
            let id: Int64 = try RowDecoder(row, table: "certificates", key: "serial").value("id")
            let entry = try CertificateEntry(row: row)
            try db.execute("DELETE FROM cmp_confirmations WHERE certificate_id = ?", id)
            guard !accepted else {
                try appendEvent(db, action: "cmp.confirmed", subject: entry.serial.hex, details: ["ca": entry.authority])
                return (true, [])
            }
            try appendEvent(db, action: "cmp.rejected", subject: entry.serial.hex, details: [
                "ca": entry.authority, "reason": reason ?? "",
            ])
            guard entry.status == .active else { return (true, []) }
            return (true, try revokeRows(db, [(id, entry)], reason: .cessationOfOperation, invalidityDate: nil, at: now))
        }
    }

    /// Withdraws (revokes as cessationOfOperation) every certificate whose confirmation did not
    /// come in time, in one transaction.
    func withdrawUnconfirmed(now: Date) throws -> [CertificateEntry] {
        guard try readOne({ db in try db.row("SELECT 1 FROM cmp_confirmations WHERE due_at <= ? LIMIT 1", now) }) != nil else {
            return []
        }
        return try write { db in
            let due = try db.rows(Self.certificateQuery + " JOIN cmp_confirmations p ON p.certificate_id = c.id WHERE p.due_at <= ?", now)
            var revoked: [CertificateEntry] = []
            for row in due {
                let id: Int64 = try RowDecoder(row, table: "certificates", key: "serial").value("id")
                let entry = try CertificateEntry(row: row)
                try db.execute("DELETE FROM cmp_confirmations WHERE certificate_id = ?", id)
                try appendEvent(db, action: "cmp.unconfirmed", subject: entry.serial.hex, details: ["ca": entry.authority])
                if entry.status == .active {
                    revoked += try revokeRows(db, [(id, entry)], reason: .cessationOfOperation, invalidityDate: nil, at: now)
                }
            }
            return revoked
        }
    }
}
