import Crypto
import Foundation
import GRDB
import GRDBSQLite

extension Store {
    /// What one CRL will say, taken in one short write transaction: its number (allocated,
    /// never reused, so numbers strictly increase however many processes publish at once), its
    /// times, and its entries, read in the same snapshot, so a CRL with a higher number never
    /// lists fewer revocations. Building the DER and signing happen outside the transaction
    /// (`RevocationService`), and `recordCRL` records the result: the write lock is held for
    /// reading the entries, not for encoding and signing tens of megabytes.
    /// With `ifDue`, nil when the current CRL is fresh: not within `validity / 2` of its
    /// nextUpdate, no revocation since it was made, and no number allocated but never recorded
    /// (a publisher that died between the two transactions).
    func draftCRL(authority name: String, ifDue: Bool) throws -> CRLDraft? {
        try write { db in
            let authority = try Self.authority(db, named: name)
            let now = clock.now()
            let thisUpdate = Int64(now.timeIntervalSince1970.rounded(.down))
            let previous = try Row.fetchOne(db, sql: """
                SELECT number, next_update FROM crls WHERE authority_id = ? ORDER BY number DESC LIMIT 1
                """, arguments: [authority.id])
            let number: Int64 = try Int64.fetchOne(db, sql: "SELECT next_crl_number FROM authorities WHERE id = ?", arguments: [authority.id]) ?? 1
            if ifDue, let previous {
                let previousNext: Date = previous["next_update"]
                let aging = now >= previousNext.addingTimeInterval(-TimeInterval(authority.crlValidity) / 2)
                let changed = try Bool.fetchOne(db, sql: "SELECT crl_stale FROM authorities WHERE id = ?", arguments: [authority.id]) ?? true
                let unrecorded = (previous["number"] as Int64) < number - 1
                if !aging && !changed && !unrecorded { return nil }
            }
            try db.execute(sql: "UPDATE authorities SET next_crl_number = ?, crl_stale = 0 WHERE id = ?", arguments: [number + 1, authority.id])

            // Entries of certificates that have expired are dropped (RFC 5280 5.1.2.6 allows it).
            let filter = "FROM certificates WHERE authority_id = ? AND status = 'revoked' AND not_after > ?"
            let expected = try Int.fetchOne(db, sql: "SELECT count(*) " + filter, arguments: [authority.id, now]) ?? 0
            var builder = CRLBuilder(expectedEntries: expected)
            // SQLite's C API directly: no Row or String per entry, so a million entries read in
            // a fraction of a second from the covering index.
            let statement = try db.makeStatement(sql: "SELECT serial, revoked_at, revocation_reason, invalidity_date " + filter)
            try statement.setArguments([authority.id, now])
            let raw = statement.sqliteStatement
            var serial: [UInt8] = []
            while true {
                let code = sqlite3_step(raw)
                if code == SQLITE_DONE { break }
                guard code == SQLITE_ROW else {
                    throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
                }
                serial.removeAll(keepingCapacity: true)
                guard Hex.append(Self.column(raw, 0), to: &serial), !serial.isEmpty else {
                    throw StoreError.corruptRow(table: "certificates", key: String(decoding: Self.column(raw, 0), as: UTF8.self),
                                                detail: "serial: not hex")
                }
                builder.append(RevokedEntry(
                    serial: serial,
                    revokedAt: Self.unixSeconds(Self.column(raw, 1)) ?? thisUpdate,
                    reason: Self.reason(Self.column(raw, 2)),
                    invalidityDate: Self.unixSeconds(Self.column(raw, 3))))
            }
            return CRLDraft(authority: name, number: number, thisUpdate: thisUpdate,
                            nextUpdate: thisUpdate + authority.crlValidity, now: now, entries: builder)
        }
    }

    /// Records a CRL built from `draft`, with its audit event and the CA-signed checkpoint of
    /// the audit chain (`signHead` signs the chain's new head: see AuditCheckpoint).
    func recordCRL(_ draft: CRLDraft, der: [UInt8], signHead: (String) throws -> [UInt8]) throws -> CRLRecord {
        let record = CRLRecord(
            authority: draft.authority, number: draft.number, thisUpdate: Date(timeIntervalSince1970: TimeInterval(draft.thisUpdate)),
            nextUpdate: Date(timeIntervalSince1970: TimeInterval(draft.nextUpdate)), entries: draft.entries.count,
            sha256: Array(SHA256.hash(data: der)).hexString)
        return try write { db in
            let authority = try Self.authority(db, named: draft.authority)
            try der.withUnsafeBytes { buffer in
                // Bound without copying tens of megabytes: the statement runs inside this closure.
                let blob = buffer.baseAddress.map { Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: $0), count: buffer.count, deallocator: .none) }
                try db.execute(sql: """
                    INSERT INTO crls (authority_id, number, this_update, next_update, entries, sha256, der) VALUES (?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [authority.id, record.number, record.thisUpdate, record.nextUpdate, record.entries, record.sha256, blob])
            }
            // Keep the DER of the last few CRLs only; a fleet's CRL can be tens of megabytes.
            try db.execute(sql: "UPDATE crls SET der = NULL WHERE authority_id = ? AND number <= ? AND der IS NOT NULL",
                           arguments: [authority.id, record.number - 3])
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
            return record
        }
    }

    /// The DER of a CA's newest CRL, while the store still keeps it.
    func latestCRLDER(of name: String) throws -> (CRLRecord, [UInt8])? {
        guard let record = try latestCRL(of: name) else { return nil }
        return try read { db in
            try Data.fetchOne(db, sql: "SELECT l.der FROM crls l JOIN authorities a ON a.id = l.authority_id WHERE a.name = ? AND l.number = ?",
                              arguments: [name, record.number]).map { (record, Array($0)) }
        }
    }

    public func latestCRL(of name: String) throws -> CRLRecord? {
        try read { db in
            try Row.fetchOne(db, sql: """
                SELECT l.*, a.name AS authority_name FROM crls l JOIN authorities a ON a.id = l.authority_id
                WHERE a.name = ? ORDER BY l.number DESC LIMIT 1
                """, arguments: [name]).map { row in
                CRLRecord(authority: row["authority_name"], number: row["number"], thisUpdate: row["this_update"],
                          nextUpdate: row["next_update"], entries: row["entries"], sha256: row["sha256"])
            }
        }
    }

    /// Every CA's recorded CRL numbers, lowest first, each with its thisUpdate. Two publishers
    /// may record in either order (each signs outside the store's lock), so the order that
    /// matters is the numbers': a higher number must never have an earlier thisUpdate.
    func crlNumbersInOrder() throws -> [String: [(number: Int64, thisUpdate: Date)]] {
        try read { db in
            var numbers: [String: [(number: Int64, thisUpdate: Date)]] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT a.name, l.number, l.this_update FROM crls l JOIN authorities a ON a.id = l.authority_id ORDER BY l.number
                """) {
                numbers[row[0], default: []].append((row[1], row[2]))
            }
            return numbers
        }
    }

    /// The certificates a CA's next CRL lists.
    public func revokedCertificates(of name: String) throws -> [RevokedCertificate] {
        try read { db in
            let authority = try Self.authority(db, named: name)
            return try Row.fetchAll(db, sql: """
                SELECT serial, thing, revoked_at, revocation_reason, invalidity_date FROM certificates
                WHERE authority_id = ? AND status = 'revoked' AND not_after > ? ORDER BY revoked_at, id
                """, arguments: [authority.id, clock.now()]).map { row in
                RevokedCertificate(serial: row["serial"], thing: row["thing"], revokedAt: row["revoked_at"],
                                   reason: row["revocation_reason"] ?? "unspecified", invalidityDate: row["invalidity_date"])
            }
        }
    }

    /// A text column's bytes, valid until the next step; empty for NULL.
    static func column(_ statement: OpaquePointer, _ index: Int32) -> UnsafeBufferPointer<UInt8> {
        guard let text = sqlite3_column_text(statement, index) else { return UnsafeBufferPointer(start: nil, count: 0) }
        return UnsafeBufferPointer(start: text, count: Int(sqlite3_column_bytes(statement, index)))
    }

    static func reason(_ text: UnsafeBufferPointer<UInt8>) -> RevocationReason {
        guard !text.isEmpty else { return .unspecified }
        return RevocationReason(rawValue: String(decoding: text, as: UTF8.self)) ?? .unspecified
    }


    /// Unix seconds from GRDB's stored date text `YYYY-MM-DD HH:MM:SS.SSS`, parsed by hand:
    /// decoding a million `Date`s through a formatter would dominate CRL generation.
    static func unixSeconds(_ utf8: UnsafeBufferPointer<UInt8>) -> Int64? {
        guard utf8.count >= 19 else { return nil }
        func number(_ range: Range<Int>) -> Int {
            utf8[range].reduce(0) { $0 * 10 + Int($1 &- 0x30) }
        }
        let year = number(0..<4), month = number(5..<7), day = number(8..<10)
        let hour = number(11..<13), minute = number(14..<16), second = number(17..<19)
        // days-from-civil (Howard Hinnant), the inverse of CivilTime.
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        return Int64(days) * 86_400 + Int64(hour * 3_600 + minute * 60 + second)
    }
}
