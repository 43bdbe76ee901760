import Crypto
import Foundation

extension Store {
    /// What one CRL will say, taken in one short write transaction: its number (allocated,
    /// never reused, so numbers strictly increase however many processes publish at once), its
    /// times, and its entries, read in the same snapshot and handed to `sink` one by one, so a
    /// CRL with a higher number never lists fewer revocations. Encoding (the sink's) and signing
    /// happen outside the store; building the DER and signing happen outside the transaction
    /// (`RevocationService`), and `recordCRL` records the result: the write lock is held for
    /// reading the entries, not for encoding and signing tens of megabytes.
    /// With `ifDue`, nil when the current CRL is fresh: not within `validity / 2` of its
    /// nextUpdate, no revocation since it was made, and no number allocated but never recorded
    /// (a publisher that died between the two transactions). `beforeCommit` runs last inside
    /// the transaction: what it throws rolls the number back (the publisher waits there for the
    /// CA key it unlocks meanwhile, so a wrong passphrase changes nothing).
    func draftCRL<Sink: CRLEntrySink>(authority name: String, ifDue: Bool, into sink: inout Sink,
                                      beforeCommit: () throws -> Void = {}) throws -> CRLDraft? {
        try write { db in
            let authority = try Self.authority(db, named: name)
            let now = clock.now()
            let thisUpdate = Int64(now.timeIntervalSince1970.rounded(.down))
            let previous = try db.row("SELECT number, next_update FROM crls WHERE authority_id = ? ORDER BY number DESC LIMIT 1",
                                      authority.id)
            let number: Int64 = try db.value(Int64.self, "SELECT next_crl_number FROM authorities WHERE id = ?", authority.id) ?? 1
            if ifDue, let previous {
                let read = RowDecoder(previous, table: "crls", key: "number")
                let previousNext: Date = try read.value("next_update")
                let aging = now >= previousNext.addingTimeInterval(-TimeInterval(authority.crlValidity) / 2)
                let changed = try db.value(Bool.self, "SELECT crl_stale FROM authorities WHERE id = ?", authority.id) ?? true
                let unrecorded = try read.value("number", as: Int64.self) < number - 1
                if !aging && !changed && !unrecorded { return nil }
            }
            try db.execute("UPDATE authorities SET next_crl_number = ?, crl_stale = FALSE WHERE id = ?", number + 1, authority.id)

            // Entries of certificates that have expired are dropped (RFC 5280 5.1.2.6 allows it).
            let filter = "FROM certificates WHERE authority_id = ? AND status = 'revoked' AND not_after > ?"
            let expected = try db.value(Int.self, "SELECT count(*) " + filter, authority.id, now) ?? 0
            // Read as bytes, with no Row or String per entry, from the covering index; parsed and
            // encoded on a second thread (`CRLRowPipeline`).
            let pipeline = CRLRowPipeline(sink: sink, expected: expected) { columns, serial in
                serial.removeAll(keepingCapacity: true)
                guard Hex.appendPairs(columns[0], to: &serial), !serial.isEmpty else {
                    throw StoreError.corruptRow(table: "certificates", key: String(decoding: columns[0], as: UTF8.self), detail: "serial: not hex")
                }
                return RevokedEntry(serial: serial, revokedAt: Self.unixSeconds(columns[1]) ?? thisUpdate,
                                    reason: Self.reason(columns[2]), invalidityDate: Self.unixSeconds(columns[3]))
            }
            let count: Int
            (sink, count) = try pipeline.run(db, "SELECT serial, revoked_at, revocation_reason, invalidity_date " + filter,
                                             [.integer(authority.id), now.sqlValue])
            try beforeCommit()
            return CRLDraft(authority: name, number: number, thisUpdate: thisUpdate,
                            nextUpdate: thisUpdate + authority.crlValidity, now: now, entries: count)
        }
    }

    /// Records a CRL built from `draft`, with its audit event and the CA-signed checkpoint of
    /// the audit chain (`signHead` signs the chain's new head: see AuditCheckpoint).
    /// `beforeCommit` runs last inside the transaction: the publisher waits there for the CRL's
    /// release check, which runs while the store writes, and what it throws records nothing.
    func recordCRL(_ draft: CRLDraft, der: [UInt8], beforeCommit: () throws -> Void = {},
                   signHead: (String) throws -> [UInt8]) throws -> CRLRecord {
        let record = CRLRecord(
            authority: draft.authority, number: draft.number, thisUpdate: Date(timeIntervalSince1970: TimeInterval(draft.thisUpdate)),
            nextUpdate: Date(timeIntervalSince1970: TimeInterval(draft.nextUpdate)), entries: draft.entries,
            sha256: Array(SHA256.hash(data: der)).hexString)
        return try write { db in
            let authority = try Self.authority(db, named: draft.authority)
            try db.execute("""
                INSERT INTO crls (authority_id, number, this_update, next_update, entries, sha256, der) VALUES (?, ?, ?, ?, ?, ?, ?)
                """, authority.id, record.number, record.thisUpdate, record.nextUpdate, record.entries, record.sha256, der)
            // Keep the DER of the last few CRLs only; a fleet's CRL can be tens of megabytes.
            try db.execute("UPDATE crls SET der = NULL WHERE authority_id = ? AND number <= ? AND der IS NOT NULL",
                           authority.id, record.number - 3)
            var head: String?
            try appendEvent(db, action: "crl.publish", subject: draft.authority, details: [
                "number": String(record.number), "entries": String(record.entries), "sha256": record.sha256,
                "next_update": Self.timestamp(record.nextUpdate),
            ], at: draft.now, lastHash: &head)
            if let signed = head {
                try appendEvent(db, action: AuditCheckpoint.action, subject: draft.authority, details: [
                    "head": signed, "signature": Data(try signHead(signed)).base64EncodedString(),
                ], at: draft.now, lastHash: &head)
            }
            try beforeCommit()
            return record
        }
    }

    /// The DER of a CA's newest CRL, while the store still keeps it.
    func latestCRLDER(of name: String) throws -> (CRLRecord, [UInt8])? {
        guard let record = try latestCRL(of: name) else { return nil }
        return try readOne { db in
            try db.value([UInt8].self, "SELECT l.der FROM crls l JOIN authorities a ON a.id = l.authority_id WHERE a.name = ? AND l.number = ?",
                         name, record.number).map { (record, $0) }
        }
    }

    public func latestCRL(of name: String) throws -> CRLRecord? {
        try readOne { db in
            try db.row("""
                SELECT l.number, l.this_update, l.next_update, l.entries, l.sha256, a.name AS authority_name
                FROM crls l JOIN authorities a ON a.id = l.authority_id WHERE a.name = ? ORDER BY l.number DESC LIMIT 1
                """, name).map { row in
                let read = RowDecoder(row, table: "crls", key: "number")
                return CRLRecord(authority: try read.value("authority_name"), number: try read.value("number"),
                                 thisUpdate: try read.value("this_update"), nextUpdate: try read.value("next_update"),
                                 entries: try read.value("entries"), sha256: try read.value("sha256"))
            }
        }
    }

    /// Every CA's recorded CRL numbers, lowest first, each with its thisUpdate. Two publishers
    /// may record in either order (each signs outside the store's lock), so the order that
    /// matters is the numbers': a higher number must never have an earlier thisUpdate.
    func crlNumbersInOrder() throws -> [String: [(number: Int64, thisUpdate: Date)]] {
        try readOne { db in
            var numbers: [String: [(number: Int64, thisUpdate: Date)]] = [:]
            for row in try db.rows("""
                SELECT a.name, l.number, l.this_update FROM crls l JOIN authorities a ON a.id = l.authority_id ORDER BY l.number
                """) {
                guard let name: String = row.get(0), let number: Int64 = row.get(1), let thisUpdate: Date = row.get(2) else {
                    throw StoreError.corruptRow(table: "crls", key: row.get(1, as: Int64.self).map(String.init) ?? "?", detail: "unreadable number or thisUpdate")
                }
                numbers[name, default: []].append((number, thisUpdate))
            }
            return numbers
        }
    }

    /// The certificates a CA's next CRL lists.
    public func revokedCertificates(of name: String) throws -> [RevokedCertificate] {
        try read { db in
            let authority = try Self.authority(db, named: name)
            return try db.rows("""
                SELECT serial, thing, revoked_at, revocation_reason, invalidity_date FROM certificates
                WHERE authority_id = ? AND status = 'revoked' AND not_after > ? ORDER BY revoked_at, id
                """, authority.id, clock.now()).map { row in
                let read = RowDecoder(row, table: "certificates", key: "serial")
                return RevokedCertificate(serial: try read.value("serial"), thing: try read.optional("thing"),
                                          revokedAt: try read.value("revoked_at"), reason: try read.optional("revocation_reason") ?? "unspecified",
                                          invalidityDate: try read.optional("invalidity_date"))
            }
        }
    }

    /// The reason from its stored text, compared as bytes: a String and a string switch per
    /// entry were a tenth of a million-entry CRL.
    static func reason(_ text: UnsafeBufferPointer<UInt8>) -> RevocationReason {
        guard !text.isEmpty else { return .unspecified }
        // Lengths and first letters tell the reasons apart; memcmp confirms the rest.
        for reason in reasonsByText where reason.text.count == text.count && reason.text.first == text.first {
            let same = reason.text.withUnsafeBufferPointer { known in
                guard let known = known.baseAddress, let text = text.baseAddress else { return false }
                return memcmp(known, text, reason.text.count) == 0
            }
            if same { return reason.reason }
        }
        return .unspecified
    }

    private static let reasonsByText: [(text: [UInt8], reason: RevocationReason)] =
        RevocationReason.allCases.map { (Array($0.rawValue.utf8), $0) }


    /// Unix seconds from GRDB's stored date text `YYYY-MM-DD HH:MM:SS.SSS`, parsed by hand:
    /// decoding a million `Date`s through a formatter would dominate CRL generation.
    static func unixSeconds(_ utf8: UnsafeBufferPointer<UInt8>) -> Int64? {
        guard utf8.count >= 19 else { return nil }
        func number(_ range: Range<Int>) -> Int {
            utf8[range].reduce(0) { $0 * 10 + Int($1 &- 0x30) }
        }
        let year = number(0..<4), month = number(5..<7), day = number(8..<10)
        let hour = number(11..<13), minute = number(14..<16), second = number(17..<19)
        return CivilTime.unixSeconds(year: year, month: month, day: day) + Int64(hour * 3_600 + minute * 60 + second)
    }
}
