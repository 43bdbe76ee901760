import Foundation

/// The tables of CMP's state (both engines).
enum CMPSchema {
    /// Certificates sent in a CMP answer and not yet confirmed (a row is reserved before the
    /// issuance, its certificate bound after), with what their request spent (to give it back
    /// if they are withdrawn) and the certificate a key update replaces.
    static let confirmations = """
        CREATE TABLE cmp_confirmations (
            transaction_id TEXT PRIMARY KEY,
            certificate_id INTEGER UNIQUE REFERENCES certificates(id) ON DELETE CASCADE,
            thing TEXT NOT NULL,
            nonce TEXT NOT NULL,
            kind TEXT NOT NULL,
            credential TEXT NOT NULL,
            token_template TEXT,
            token_expires_at TEXT,
            replaces_id INTEGER,
            due_at TEXT NOT NULL)
        """
    /// senderNonces of key updates lately received: a replay is refused on every node.
    static let nonces = "CREATE TABLE cmp_nonces (nonce TEXT PRIMARY KEY, seen_at TEXT NOT NULL)"
}

/// A certificate sent in a CMP answer that its client has not confirmed yet.
struct PendingConfirmation: Sendable {
    /// What the request proved itself with, and so what a withdrawal gives back.
    enum Kind: String, Sendable {
        /// An enrolment token: put back, unless the operator made a new one meanwhile.
        case token
        /// A claim's enrolment of a new thing: nothing to give back (an operator re-opens it).
        case claim
        /// A claim's enrolment of a thing an operator had re-opened: the opening is given back.
        case claimReopened = "claim-reopened"
        /// The device's current certificate (kur): superseded only once the new one is confirmed.
        case device
    }

    let serial: SerialNumber
    let authority: String
    let thing: String?
    let template: String
    /// The certificate, whose hash certConf must carry.
    let der: [UInt8]
    /// The answer's senderNonce, which the certConf's recipNonce must repeat, hex.
    let nonce: String
    let kind: Kind
    /// How the request was protected, which the certConf must be too: `mac:SECRET` or
    /// `cert:SHA256` of the signer's certificate.
    let credential: String
    let due: Date
    /// The certificate a key update replaces: serial and CA.
    var replaces: (serial: SerialNumber, authority: String)? = nil
}

/// What a held certificate's request spent, to be given back if it is withdrawn.
struct CMPHold: Sendable {
    var kind: PendingConfirmation.Kind
    var credential: String
    /// The token the request spent.
    var token: EnrolmentTokenRow?
    /// The certificate a key update replaces: serial and CA.
    var replaces: (serial: SerialNumber, authority: String)?

    init(kind: PendingConfirmation.Kind, credential: String, token: EnrolmentTokenRow? = nil,
         replaces: (serial: SerialNumber, authority: String)? = nil) {
        self.kind = kind
        self.credential = credential
        self.token = token
        self.replaces = replaces
    }
}

extension Store {
    /// A certificate row with what its hold spent.
    static let heldQuery = """
        SELECT c.*, a.name AS authority_name, p.kind AS hold_kind, p.credential AS hold_credential, p.token_template AS hold_template,
        p.token_expires_at AS hold_expires
        FROM certificates c JOIN authorities a ON a.id = c.authority_id JOIN cmp_confirmations p ON p.certificate_id = c.id
        """

    /// The certificate awaiting confirmation in `transactionID`, if any.
    func pendingConfirmation(transactionID: String) throws -> PendingConfirmation? {
        try readOne { db -> PendingConfirmation? in
            guard let row = try db.row("""
                SELECT c.serial, a.name, c.thing, c.template, c.der, p.nonce, p.kind, p.credential, p.due_at, r.serial AS replaced_serial,
                    ra.name AS replaced_ca
                FROM cmp_confirmations p JOIN certificates c ON c.id = p.certificate_id JOIN authorities a ON a.id = c.authority_id
                LEFT JOIN certificates r ON r.id = p.replaces_id LEFT JOIN authorities ra ON ra.id = r.authority_id
                WHERE p.transaction_id = ?
                """, transactionID) else { return nil }
            let read = RowDecoder(row, table: "cmp_confirmations", key: transactionID)
            var pending = PendingConfirmation(serial: try read.parsed("serial", SerialNumber.init(hex:)), authority: try read.value("name"),
                                              thing: try read.optional("thing"), template: try read.value("template"), der: try read.value("der"),
                                              nonce: try read.value("nonce"),
                                              kind: try read.parsed("kind", PendingConfirmation.Kind.init(rawValue:)),
                                              credential: try read.value("credential"), due: try read.value("due_at"))
            if let serial: String = try read.optional("replaced_serial"), let replaced = SerialNumber(hex: serial) {
                pending.replaces = (replaced, try read.value("replaced_ca"))
            }
            return pending
        }
    }

    /// Ends the wait of `transactionID`: confirmed, the certificate stands; rejected, it is
    /// revoked (cessationOfOperation) and what its request spent given back, in the same
    /// transaction. Returns the revoked entry, and false when the wait had already ended
    /// (confirmed twice, or withdrawn meanwhile).
    func settleConfirmation(transactionID: String, accepted: Bool, reason: String?, at now: Date) throws -> (settled: Bool, revoked: [CertificateEntry]) {
        try write { db in
            let rows = try db.rows(Self.heldQuery + " WHERE p.transaction_id = ?", transactionID)
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
            return (true, try withdraw(db, id: id, entry: entry, hold: row, at: now))
        }
    }

    /// Withdraws every certificate whose confirmation did not come in time, in one transaction,
    /// and forgets nonces older than `forgetNoncesBefore`.
    func withdrawUnconfirmed(now: Date, forgetNoncesBefore: Date) throws -> [CertificateEntry] {
        let due = try readOne { db in try db.row("SELECT 1 FROM cmp_confirmations WHERE due_at <= ? LIMIT 1", now) } != nil
        let old = try readOne { db in try db.row("SELECT 1 FROM cmp_nonces WHERE seen_at < ? LIMIT 1", forgetNoncesBefore) } != nil
        guard due || old else { return [] }
        return try write { db in
            _ = try db.execute("DELETE FROM cmp_nonces WHERE seen_at < ?", forgetNoncesBefore)
            try bindOrphans(db, now: now)
            let rows = try db.rows(Self.heldQuery + " WHERE p.due_at <= ?", now)
            var revoked: [CertificateEntry] = []
            for row in rows {
                let id: Int64 = try RowDecoder(row, table: "certificates", key: "serial").value("id")
                let entry = try CertificateEntry(row: row)
                try db.execute("DELETE FROM cmp_confirmations WHERE certificate_id = ?", id)
                try appendEvent(db, action: "cmp.unconfirmed", subject: entry.serial.hex, details: ["ca": entry.authority])
                revoked += try withdraw(db, id: id, entry: entry, hold: row, at: now)
            }
            return revoked
        }
    }

    /// Revokes a held certificate (cessationOfOperation) and gives back what its request spent
    /// (the token, unless a new one was made meanwhile or it has expired; a claim's opening of a
    /// re-opened thing), but only when the device can have made no use of it: this withdrawal
    /// revoked it (not an operator or the device before), and the thing has no newer certificate.
    private func withdraw(_ db: any SQLConnection, id: Int64, entry: CertificateEntry, hold row: SQLRow, at now: Date) throws -> [CertificateEntry] {
        let read = RowDecoder(row, table: "cmp_confirmations", key: entry.serial.hex)
        let revoked = entry.status == .active ? try revokeRows(db, [(id, entry)], reason: .cessationOfOperation, invalidityDate: nil, at: now) : []
        guard let thing = entry.thing, !revoked.isEmpty,
              try db.row("SELECT 1 FROM certificates WHERE thing = ? AND id > ? LIMIT 1", thing, id) == nil else { return revoked }
        switch PendingConfirmation.Kind(rawValue: try read.value("hold_kind")) {
        case .token:
            let credential: String = try read.value("hold_credential")
            let expires: Date? = try read.optional("hold_expires")
            if let expires, now < expires, credential.hasPrefix("mac:") {
                let secret = String(credential.dropFirst(4))
                let restored = try db.execute("""
                    INSERT INTO enrolment_tokens (thing, template, secret_sha256, expires_at, created_at, mac_secret) VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT(thing) DO NOTHING
                    """, thing, try read.value("hold_template", as: String.self), CertificateAuthority.digest(secret), expires, now, secret)
                if restored > 0 { try appendEvent(db, action: "enrolment.token.restored", subject: thing, details: ["template": entry.template]) }
            }
        case .claimReopened:
            _ = try db.execute("INSERT INTO claim_openings (thing, created_at) VALUES (?, ?) ON CONFLICT(thing) DO NOTHING",
                               thing, CivilTime.storeText(now))
        case .claim, .device:
            break
        case nil:
            throw StoreError.corruptRow(table: "cmp_confirmations", key: entry.serial.hex, detail: "unknown kind")
        }
        return revoked
    }

    /// Records the senderNonce of a key update; false when it was already seen (a replay), on
    /// any node.
    func rememberCMPNonce(_ nonce: String, at now: Date) throws -> Bool {
        try database.writeOne { db in try db.execute("INSERT INTO cmp_nonces (nonce, seen_at) VALUES (?, ?) ON CONFLICT(nonce) DO NOTHING", nonce, now) == 1 }
    }
}
