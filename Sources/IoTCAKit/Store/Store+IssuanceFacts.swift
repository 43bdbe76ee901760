import Foundation

/// A CA's facts as this process read them on a shared store, and the facts epoch's stamp they
/// were read under (`PostgresReads.functionsV9`): valid for as long as the database's stamp is
/// the same.
struct KeptFacts: Sendable {
    let stamp: Int64
    let authority: Authority
    let templatesCounter: String?
}

extension Store {
    /// What planning an issuance reads: the CA, and the thing's active certificates. (The record
    /// checks both again under the write lock: the CA's status, which `ca disable` changes
    /// under the exclusive lock, and the thing's certificates under the thing's. This read lets a
    /// conflict or a disabled CA be refused before anything is signed, so it needs no snapshot
    /// of its own: one statement, the
    /// templates' counter and the thing's active serials riding on the CA's row; one round trip
    /// on PostgreSQL where a transaction took five.)
    /// With `history`, also the template and CA of every certificate the thing holds or held
    /// (what a caller limited by grants must cover to touch it).
    /// And the templates' version (`templatesVersion`), so a long-lived process sees a template
    /// added, replaced or removed at once.
    /// Made once: the statement cache is keyed by the text, and this runs on every issuance.
    /// On SQLite; PostgreSQL runs the same through a function (`PostgresReads`).
    static let issuanceFactsQuery = authorityColumns + ", (SELECT value FROM settings WHERE key = 'templates_version') AS templates_counter,"
        + " c.serial AS active_serial" + authorityJoin
        + " LEFT JOIN certificates c ON c.thing = ? AND c.status = 'active' WHERE a.name = ? ORDER BY c.id"

    /// The facts an issuance is planned on.
    ///
    /// `epoch` is the shared store's facts epoch as a read made moments ago in the same request
    /// returned it (the client's standing, `ClientStanding.factsEpoch`). When this process holds
    /// the CA's facts read under that same stamp, no CA row and no template changed since on
    /// any node (the database draws a new stamp in the transaction of every such change), and
    /// they are used without a round trip: a serving node's issuance then reads the database
    /// once before its record instead of twice. An epoch older than `FactsEpoch.freshFor` is
    /// not used (a caller slow to send its request's body). The thing's active certificates are not known
    /// then (`active` is nil): the record checks them under the thing's lock, and a conflict
    /// is refused there with the same error, after signing instead of before.
    /// Without an epoch (the CLI, a batch, a request that read none), the facts are always read.
    public func issuanceFacts(authority name: String, thing: String, history: Bool = false, epoch: FactsEpoch? = nil) throws
        -> (authority: Authority, active: [SerialNumber]?, history: Set<Caller.IssuedAs>, templatesVersion: TemplatesVersion) {
        if let epoch, let kept = keptFacts.withLock({ $0[name] }), epoch.vouches(for: kept.stamp, at: clock.now()) {
            let history = history ? try readOne { db in try Self.history(db, thing: thing) } : []
            return (kept.authority, nil, history, templatesVersion(counter: kept.templatesCounter))
        }
        return try readOne { db in
            // The CA's row once per active certificate of the thing (once, with none).
            let rows = try db.rows(isShared ? PostgresReads.issuanceFacts : Self.issuanceFactsQuery, thing, name)
            guard let row = rows.first else { throw AuthorityError.notFound(name) }
            let active = try rows.compactMap { row -> SerialNumber? in
                guard let text: String = row.get("active_serial") else { return nil }
                guard let serial = SerialNumber(hex: text) else {
                    throw StoreError.corruptRow(table: "certificates", key: text, detail: "serial: not hex")
                }
                return serial
            }
            let authority = try Authority(row: row)
            let counter: String? = row.get("templates_counter")
            // Kept only for the CA's name as the database knows it: the map holds one entry per CA.
            if isShared, let readUnder: Int64 = row.get("facts_epoch") {
                keptFacts.withLock { $0[name] = KeptFacts(stamp: readUnder, authority: authority, templatesCounter: counter) }
            }
            return (authority, active, history ? try Self.history(db, thing: thing) : [], templatesVersion(counter: counter))
        }
    }
}
