import Foundation

/// A one-time enrolment secret as the store keeps it: its hash, and the secret itself only when
/// it may key a CMP MAC (which needs it at both ends).
struct EnrolmentTokenRow: Sendable {
    let thing: String
    let template: String
    let secretSHA256: String
    let expiresAt: Date
    let createdAt: Date
    var macSecret: String? = nil

    init(thing: String, template: String, secretSHA256: String, expiresAt: Date, createdAt: Date, macSecret: String? = nil) {
        self.thing = thing
        self.template = template
        self.secretSHA256 = secretSHA256
        self.expiresAt = expiresAt
        self.createdAt = createdAt
        self.macSecret = macSecret
    }

    init(row found: SQLRow) throws {
        let read = RowDecoder(found, table: "enrolment_tokens", key: "thing")
        self.init(thing: try read.value("thing"), template: try read.value("template"), secretSHA256: try read.value("secret_sha256"),
                  expiresAt: try read.value("expires_at"), createdAt: try read.value("created_at"), macSecret: try read.optional("mac_secret"))
    }
}

extension Store {
    /// Records the token of `row.thing`, replacing one not yet spent, with its audit event.
    func putEnrolmentToken(_ row: EnrolmentTokenRow, event: String = "enrolment.token") throws {
        try write { db in
            try db.execute("""
                INSERT INTO enrolment_tokens (thing, template, secret_sha256, expires_at, created_at, mac_secret) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT(thing) DO UPDATE SET template = excluded.template, secret_sha256 = excluded.secret_sha256,
                    expires_at = excluded.expires_at, created_at = excluded.created_at, mac_secret = excluded.mac_secret
                """, row.thing, row.template, row.secretSHA256, row.expiresAt, row.createdAt, row.macSecret)
            try appendEvent(db, action: event, subject: row.thing, details: [
                "template": row.template, "expires_at": Self.timestamp(row.expiresAt),
            ])
        }
    }

    /// Puts back a token spent by an issuance that then failed, unless the operator made a new
    /// one for the thing meanwhile: the newer token stands.
    func restoreEnrolmentToken(_ row: EnrolmentTokenRow) throws {
        try write { db in
            let restored = try db.execute("""
                INSERT INTO enrolment_tokens (thing, template, secret_sha256, expires_at, created_at, mac_secret) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT(thing) DO NOTHING
                """, row.thing, row.template, row.secretSHA256, row.expiresAt, row.createdAt, row.macSecret)
            if restored > 0 {
                try appendEvent(db, action: "enrolment.token.restored", subject: row.thing, details: ["template": row.template])
            }
        }
    }

    /// Spends the token of `thing` if `secretSHA256` is its hash and it has not expired. The
    /// secret is compared on a read, in constant time, so a wrong guess never takes the writers'
    /// lock; the row is then deleted on condition that it is still that token, so two requests
    /// with one secret cannot both enrol. Returns the spent row (to restore if the issuance fails).
    /// - Throws: `EnrolmentError` (no such token or a wrong secret alike, expired).
    /// `check` runs once the secret and expiry are proven and before the token is spent: what
    /// it refuses (a label naming another template, a malformed request) spends and writes nothing.
    func spendEnrolmentToken(thing: String, secretSHA256: String, now: Date,
                             check: (EnrolmentTokenRow) throws -> Void = { _ in }) throws -> EnrolmentTokenRow {
        let row = try enrolmentToken(thing: thing)
        // Compared even when there is no token, so the time taken tells nothing either.
        let stored = row?.secretSHA256 ?? String(repeating: "0", count: 64)
        guard ConstantTime.equal(Array(stored.utf8), Array(secretSHA256.utf8)), let row else {
            throw EnrolmentError.invalidCredentials(thing: thing)
        }
        guard now < row.expiresAt else { throw EnrolmentError.expired(thing: thing, at: row.expiresAt) }
        try check(row)
        try write { db in
            let spent = try db.execute("DELETE FROM enrolment_tokens WHERE thing = ? AND secret_sha256 = ?", thing, row.secretSHA256)
            // Spent by another request since the read (or replaced by the operator).
            guard spent == 1 else { throw EnrolmentError.invalidCredentials(thing: thing) }
            try appendEvent(db, action: "enrolment.token.spent", subject: thing, details: ["template": row.template])
        }
        return row
    }

    /// The token of `thing`, spent or not checked.
    func enrolmentToken(thing: String) throws -> EnrolmentTokenRow? {
        try readOne { db -> EnrolmentTokenRow? in
            try db.row("SELECT * FROM enrolment_tokens WHERE thing = ?", thing).map(EnrolmentTokenRow.init(row:))
        }
    }
}
