import Crypto
import Foundation
import GRDB
import GRDBSQLite

/// What to revoke: one certificate by serial, or every active certificate of a thing.
public enum RevocationTarget: Sendable, Equatable {
    case serial(SerialNumber, authority: String?)
    case thing(String)
    /// Several certificates of one CA in one transaction (a batch's superseded certificates).
    case serials([SerialNumber], authority: String)
}

/// A CRL as the store records it.
public struct CRLRecord: Sendable, Equatable, Encodable {
    public var authority: String
    public var number: Int64
    public var thisUpdate: Date
    public var nextUpdate: Date
    public var entries: Int
    public var sha256: String

    enum CodingKeys: String, CodingKey {
        case authority = "ca", number, entries, sha256
        case thisUpdate = "this_update"
        case nextUpdate = "next_update"
    }
}

/// One line of a CRL, as `iotca crl show` lists it.
public struct RevokedCertificate: Sendable, Equatable, Encodable {
    public var serial: String
    public var thing: String?
    public var revokedAt: Date
    public var reason: String
    public var invalidityDate: Date?

    enum CodingKeys: String, CodingKey {
        case serial, thing, reason
        case revokedAt = "revoked_at"
        case invalidityDate = "invalidity_date"
    }
}

extension Store {
    /// Marks certificates revoked and writes the audit event, in one transaction. A revoked CA
    /// certificate also stops its CA from issuing. Returns the revoked entries.
    func revoke(_ target: RevocationTarget, reason: RevocationReason, invalidityDate: Date?, at time: Date? = nil) throws -> [CertificateEntry] {
        let now = time ?? clock.now()
        return try write { db in
            let targets: [(id: Int64, entry: CertificateEntry)]
            switch target {
            case .serial(let serial, let authority):
                var rows = try Row.fetchAll(db, sql: Self.certificateRowQuery + " WHERE c.serial = ?", arguments: [serial.hex])
                if let authority { rows = rows.filter { $0["authority_name"] == authority } }
                guard !rows.isEmpty else { throw CertificateNotFound(selector: serial.hex) }
                guard rows.count == 1 else {
                    throw RevocationError.ambiguousSerial(serial.hex, authorities: rows.map { $0["authority_name"] })
                }
                targets = [(rows[0]["id"], try CertificateEntry(row: rows[0]))]
            case .thing(let thing):
                let rows = try Row.fetchAll(db, sql: Self.certificateRowQuery + " WHERE c.thing = ? AND c.status = 'active' ORDER BY c.id", arguments: [thing])
                guard !rows.isEmpty else {
                    if try Bool.fetchOne(db, sql: "SELECT 1 FROM certificates WHERE thing = ?", arguments: [thing]) == true {
                        throw RevocationError.noActiveCertificate(thing: thing)
                    }
                    throw CertificateNotFound(selector: thing)
                }
                targets = try rows.map { ($0["id"], try CertificateEntry(row: $0)) }
            case .serials(let serials, let authority):
                targets = try serials.map { serial in
                    guard let row = try Row.fetchOne(db, sql: Self.certificateRowQuery + " WHERE c.serial = ? AND a.name = ?",
                                                     arguments: [serial.hex, authority]) else {
                        throw CertificateNotFound(selector: serial.hex)
                    }
                    return (row["id"], try CertificateEntry(row: row))
                }
            }
            return try revokeRows(db, targets, reason: reason, invalidityDate: invalidityDate, at: now)
        }
    }

    /// Marks rows revoked inside the caller's transaction, with their audit events.
    func revokeRows(_ db: Database, _ targets: [(id: Int64, entry: CertificateEntry)], reason: RevocationReason,
                    invalidityDate: Date?, at now: Date) throws -> [CertificateEntry] {
        let revokedAt = Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down))
        var revoked: [CertificateEntry] = []
        for (id, entry) in targets {
            if entry.status == .revoked {
                throw RevocationError.alreadyRevoked(
                    serial: entry.serial.hex, at: entry.revokedAt.map(Self.timestamp) ?? "?", reason: entry.revocationReason ?? "?")
            }
            if let certified = entry.subjectAuthority {
                let authority = try Self.authority(db, named: certified)
                if authority.kind == .root { throw RevocationError.rootNotRevocable(certified) }
                try db.execute(sql: "UPDATE authorities SET status = 'revoked' WHERE id = ?", arguments: [authority.id])
            }
            try db.execute(sql: """
                UPDATE certificates SET status = 'revoked', revoked_at = ?, revocation_reason = ?, invalidity_date = ?
                WHERE id = ?
                """, arguments: [revokedAt, reason.rawValue, invalidityDate, id])
            try db.execute(sql: "UPDATE authorities SET crl_stale = 1 WHERE name = ?", arguments: [entry.authority])
            var details = ["serial": entry.serial.hex, "ca": entry.authority, "reason": reason.rawValue]
            details["invalidity_date"] = invalidityDate.map(Self.timestamp)
            details["certified_ca"] = entry.subjectAuthority
            try appendEvent(db, action: "certificate.revoke", subject: entry.thing ?? entry.subjectAuthority ?? "", details: details, at: now)
            var updated = entry
            updated.status = .revoked
            updated.revokedAt = revokedAt
            updated.revocationReason = reason.rawValue
            revoked.append(updated)
        }
        return revoked
    }

    static let certificateRowQuery = """
        SELECT c.*, a.name AS authority_name FROM certificates c JOIN authorities a ON a.id = c.authority_id
        """

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
