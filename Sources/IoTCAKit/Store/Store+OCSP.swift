import Foundation

extension Store {
    /// What OCSP says of the certificate `serial` of the CA with row id `authorityID`: nil
    /// when the CA never issued it (`unknown`).
    func ocspStatus(authorityID: Int64, serial: SerialNumber) throws -> OCSPCertificateStatus? {
        guard let row = try database.certificateStatus(authorityID: authorityID, serial: serial.hex) else { return nil }
        guard row.get(0, as: String.self) == CertificateEntry.Status.revoked.rawValue else { return .good }
        let revokedAt: Date? = row.get(1)
        let reason: String? = row.get(2)
        return .revoked(at: Int64((revokedAt ?? Date(timeIntervalSince1970: 0)).timeIntervalSince1970.rounded(.down)),
                        reason: reason.flatMap(RevocationReason.init(rawValue:)) ?? .unspecified)
    }

    /// What OCSP says of every certificate of the revoked CA `name`: revoked when the CA's own
    /// certificate was, as `cACompromise` when any of its certificates was revoked for a
    /// compromised key (an older, milder reason never hides it), else with the first reason.
    func authorityRevocation(_ name: String) throws -> OCSPCertificateStatus {
        try readOne { db -> OCSPCertificateStatus in
            let row = try db.row("""
                SELECT revoked_at, revocation_reason FROM certificates WHERE subject_authority = ? AND status = 'revoked'
                ORDER BY CASE WHEN revocation_reason IN ('key-compromise', 'ca-compromise') THEN 0 ELSE 1 END, revoked_at LIMIT 1
                """, name)
            let revokedAt: Date? = row?.get(0)
            let reason = row?.get(1, as: String.self).flatMap(RevocationReason.init(rawValue:)) ?? .unspecified
            return .revoked(at: Int64((revokedAt ?? Date(timeIntervalSince1970: 0)).timeIntervalSince1970.rounded(.down)),
                            reason: reason == .keyCompromise || reason == .caCompromise ? .caCompromise : reason)
        }
    }

    /// A number that grows whenever a certificate's or a CA's status changes, whoever changed
    /// it (the triggers of migration v5-revocation-epoch count every such update): answers
    /// cached before it grew may be stale.
    func revocationEpoch() throws -> Int64 {
        try database.revocationEpoch()
    }
}
