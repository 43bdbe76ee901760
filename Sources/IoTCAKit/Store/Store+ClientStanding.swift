import Foundation

/// What the service needs to know about a client certificate on every request, read in one
/// transaction: the certificate's status and template, whether its CA may still act, and the
/// grants. Only these columns: the service asks this on every request, and a whole
/// certificate row (dates, names, JSON) cost more to decode than the query took.
public struct ClientStanding: Sendable, Equatable {
    public let serial: SerialNumber
    public let thing: String?
    public let template: String
    public let status: CertificateEntry.Status
    public let authority: String
    /// The issuing CA's status: a client of a revoked (or pending) CA is refused; a disabled
    /// CA only stops issuing, and what it issued stays valid, clients included.
    public let authorityStatus: Authority.Status
    public let grants: [ClientGrant]
    /// Sent in a CMP answer and not confirmed yet: not a credential until it is (a device could
    /// otherwise renew with it, then have it withdrawn and its token given back).
    public var awaitingConfirmation = false
    /// On a shared store, the facts epoch read with the standing: passed on to an issuance this
    /// request makes (`IssueRequest.factsEpoch`), it spares the plan a read of the CA's facts
    /// while nothing in them changed. Nil on SQLite, where reads cross no network.
    public var factsEpoch: FactsEpoch?
}

extension Store {
    /// The standing of the certificate `der` (serial `serial`); nil when the store holds no such
    /// certificate. One read transaction.
    /// - Throws: `StoreError` (a corrupt row is an error, not a default).
    /// On SQLite; PostgreSQL runs the same through a function (`PostgresReads`).
    static let clientStandingQuery = """
        SELECT c.thing, c.template, c.status, c.der, a.name, a.status, g.template AS grant_template, g.pattern AS grant_pattern,
            EXISTS (SELECT 1 FROM cmp_confirmations p WHERE p.certificate_id = c.id) AS held
        FROM certificates c JOIN authorities a ON a.id = c.authority_id LEFT JOIN client_grants g ON g.client = c.thing
        WHERE c.serial = ? ORDER BY c.id, g.template, g.pattern
        """

    public func clientStanding(serial: SerialNumber, der: [UInt8]) throws -> ClientStanding? {
        // One statement (the grants joined in, a row each), so one round trip on PostgreSQL.
        try readOne { db -> ClientStanding? in
            let rows = try db.rows(isShared ? PostgresReads.clientStanding : Self.clientStandingQuery, serial.hex)
            // Several CAs may have issued the same serial: the bytes say which one this is.
            guard let row = rows.first(where: { $0[3] == .blob(der) }) else { return nil }
            let authority: String = row.get(4) ?? "?"
            guard let status = row.get(2, as: String.self).flatMap(CertificateEntry.Status.init(rawValue:)) else {
                throw StoreError.corruptRow(table: "certificates", key: serial.hex, detail: "unreadable status")
            }
            guard let authorityStatus = row.get(5, as: String.self).flatMap(Authority.Status.init(rawValue:)) else {
                throw StoreError.corruptRow(table: "authorities", key: authority, detail: "unreadable status")
            }
            let thing: String? = row.get(0)
            let grants = try rows.filter { $0[3] == .blob(der) }.compactMap { grant -> ClientGrant? in
                guard let template: String = grant.get(6), let pattern: String = grant.get(7) else { return nil }
                do throws(PolicyError) {
                    return try ClientGrant(template: template, options: pattern)
                } catch {
                    throw StoreError.corruptRow(table: "client_grants", key: thing ?? "?", detail: error.description)
                }
            }
            var standing = ClientStanding(serial: serial, thing: thing, template: row.get(1) ?? "", status: status, authority: authority,
                                          authorityStatus: authorityStatus, grants: grants)
            // SQLite answers EXISTS with an integer, PostgreSQL with a boolean (read as one).
            standing.awaitingConfirmation = row[8] == .boolean(true) || (row.get(8, as: Int64.self) ?? 0) != 0
            if isShared, let stamp: Int64 = row.get("facts_epoch") { standing.factsEpoch = FactsEpoch(stamp: stamp, readAt: clock.now()) }
            return standing
        }
    }
}
