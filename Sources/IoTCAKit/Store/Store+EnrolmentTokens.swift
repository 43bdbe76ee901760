import Foundation

/// A one-time enrolment secret as the store keeps it: its hash, never the secret.
struct EnrolmentTokenRow: Sendable {
    let thing: String
    let template: String
    let secretSHA256: String
    let expiresAt: Date
    let createdAt: Date
}

extension Store {
    /// Records the token of `row.thing`, replacing one not yet spent, with its audit event.
    func putEnrolmentToken(_ row: EnrolmentTokenRow, event: String = "enrolment.token") throws {
        try write { db in
            try db.execute("""
                INSERT INTO enrolment_tokens (thing, template, secret_sha256, expires_at, created_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(thing) DO UPDATE SET template = excluded.template, secret_sha256 = excluded.secret_sha256,
                    expires_at = excluded.expires_at, created_at = excluded.created_at
                """, row.thing, row.template, row.secretSHA256, row.expiresAt, row.createdAt)
            try appendEvent(db, action: event, subject: row.thing, details: [
                "template": row.template, "expires_at": Self.timestamp(row.expiresAt),
            ])
        }
    }

    /// Spends the token of `thing` if `secretSHA256` is its hash and it has not expired: the row
    /// is deleted in the same transaction that checks it, so two requests with one secret
    /// cannot both enrol. Returns the spent row (to restore if the issuance then fails).
    /// - Throws: `EnrolmentError` (no such token or a wrong secret alike, expired).
    func spendEnrolmentToken(thing: String, secretSHA256: String, now: Date) throws -> EnrolmentTokenRow {
        try write { db in
            guard let found = try db.row("SELECT * FROM enrolment_tokens WHERE thing = ?", thing) else {
                throw EnrolmentError.invalidCredentials(thing: thing)
            }
            let read = RowDecoder(found, table: "enrolment_tokens", key: "thing")
            let row = EnrolmentTokenRow(thing: try read.value("thing"), template: try read.value("template"),
                                        secretSHA256: try read.value("secret_sha256"), expiresAt: try read.value("expires_at"),
                                        createdAt: try read.value("created_at"))
            guard ConstantTime.equal(Array(row.secretSHA256.utf8), Array(secretSHA256.utf8)) else {
                throw EnrolmentError.invalidCredentials(thing: thing)
            }
            guard now < row.expiresAt else { throw EnrolmentError.expired(thing: thing, at: row.expiresAt) }
            try db.execute("DELETE FROM enrolment_tokens WHERE thing = ?", thing)
            try appendEvent(db, action: "enrolment.token.spent", subject: thing, details: ["template": row.template])
            return row
        }
    }
}
