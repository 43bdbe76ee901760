import Foundation
import GRDB

/// What the service needs to know about a client certificate on every request, read in one
/// transaction: the certificate's record, whether its CA may still act, and the grants.
public struct ClientStanding: Sendable, Equatable {
    public let entry: CertificateEntry
    /// The issuing CA's status: a client of a revoked or disabled CA is refused.
    public let authorityStatus: Authority.Status
    public let grants: [ClientGrant]
}

extension Store {
    /// The record of the certificate `der` (serial `serial`), its CA's status and its thing's
    /// grants; nil when the store holds no such certificate. One read transaction.
    /// - Throws: `StoreError` (a corrupt row is an error, not a default).
    public func clientStanding(serial: SerialNumber, der: [UInt8]) throws -> ClientStanding? {
        try read { db -> ClientStanding? in
            let rows = try Row.fetchAll(db, sql: """
                SELECT c.*, a.name AS authority_name, a.status AS authority_status
                FROM certificates c JOIN authorities a ON a.id = c.authority_id WHERE c.serial = ? ORDER BY c.id
                """, arguments: [serial.hex])
            guard let row = rows.first(where: { ($0["der"] as Data?).map { Array($0) == der } ?? false }) else { return nil }
            let entry = try CertificateEntry(row: row)
            guard let status = Authority.Status(rawValue: row["authority_status"]) else {
                throw StoreError.corruptRow(table: "authorities", key: entry.authority, detail: "unreadable status")
            }
            let grants = try entry.thing.map { try Self.grants(db, of: $0) } ?? []
            return ClientStanding(entry: entry, authorityStatus: status, grants: grants)
        }
    }
}
