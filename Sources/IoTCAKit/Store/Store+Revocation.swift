import Crypto
import Foundation

extension Store {
    /// Marks certificates revoked and writes the audit event, in one transaction. A revoked CA
    /// certificate also stops its CA from issuing. Returns the revoked entries.
    func revoke(_ target: RevocationTarget, reason: RevocationReason, invalidityDate: Date?, at time: Date? = nil) throws -> [CertificateEntry] {
        let now = time ?? clock.now()
        return try write { db in
            let targets: [(id: Int64, entry: CertificateEntry)]
            switch target {
            case .serial(let serial, let authority):
                var rows = try db.rows(Self.certificateQuery + " WHERE c.serial = ?", serial.hex)
                if let authority { rows = rows.filter { $0.get("authority_name") == authority } }
                guard !rows.isEmpty else { throw CertificateNotFound(selector: serial.hex) }
                guard rows.count == 1 else {
                    throw RevocationError.ambiguousSerial(serial.hex, authorities: rows.map { $0.get("authority_name") ?? "?" })
                }
                targets = [try Self.identified(rows[0])]
            case .thing(let thing):
                let rows = try db.rows(Self.certificateQuery + " WHERE c.thing = ? AND c.status = 'active' ORDER BY c.id", thing)
                guard !rows.isEmpty else {
                    if try db.row("SELECT 1 FROM certificates WHERE thing = ?", thing) != nil {
                        throw RevocationError.noActiveCertificate(thing: thing)
                    }
                    throw CertificateNotFound(selector: thing)
                }
                targets = try rows.map(Self.identified)
            }
            return try revokeRows(db, targets, reason: reason, invalidityDate: invalidityDate, at: now)
        }
    }

    /// Revokes (reason superseded) those of `serials` that are still active certificates of
    /// `thing`, once a replacement is recorded: the one way a renewal retires what it replaced,
    /// whether right after the new bundle is written (`issue --renew --supersede`) or inside the
    /// recording transaction (batch recovery of a bundle that was never written). A serial
    /// revoked meanwhile, or issued meanwhile by someone else, is left alone.
    func supersede(thing: String, serials: [SerialNumber], at time: Date? = nil) throws -> [CertificateEntry] {
        let now = time ?? clock.now()
        return try write { db in try supersedeRows(db, thing: thing, serials: serials, at: now) }
    }

    func supersedeRows(_ db: any SQLConnection, thing: String, serials: [SerialNumber], at now: Date) throws -> [CertificateEntry] {
        let wanted = Set(serials.map(\.hex))
        let rows = try db.rows(Self.certificateQuery + " WHERE c.thing = ? AND c.status = 'active' ORDER BY c.id", thing)
        let targets: [(id: Int64, entry: CertificateEntry)] = try rows.map(Self.identified)
            .filter { wanted.contains($0.entry.serial.hex) }
        return try revokeRows(db, targets, reason: .superseded, invalidityDate: nil, at: now)
    }

    /// Marks rows revoked inside the caller's transaction, with their audit events.
    /// A certificate row with its row id.
    static func identified(_ row: SQLRow) throws -> (id: Int64, entry: CertificateEntry) {
        (try RowDecoder(row, table: "certificates", key: "serial").value("id"), try CertificateEntry(row: row))
    }

    func revokeRows(_ db: any SQLConnection, _ targets: [(id: Int64, entry: CertificateEntry)], reason: RevocationReason,
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
                try db.execute("UPDATE authorities SET status = 'revoked' WHERE id = ?", authority.id)
            }
            try db.execute("""
                UPDATE certificates SET status = 'revoked', revoked_at = ?, revocation_reason = ?, invalidity_date = ?
                WHERE id = ?
                """, revokedAt, reason.rawValue, invalidityDate, id)
            try db.execute("UPDATE authorities SET crl_stale = TRUE WHERE name = ?", entry.authority)
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
}
