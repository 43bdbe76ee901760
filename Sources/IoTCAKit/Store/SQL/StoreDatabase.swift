/// The engine behind a `Store`: SQLite in the store folder, or a PostgreSQL database several
/// nodes share. Each write is one transaction, serialized against every other writer of the
/// same record (SQLite's write lock; an advisory lock on PostgreSQL), so the checks a write
/// makes (one active certificate per thing, the next CRL number, the audit chain's end) hold
/// across threads, processes and machines alike.
protocol StoreDatabase: Sendable {
    /// What names the database in messages: the SQLite file's path, or the URL without a password.
    var location: String { get }
    /// Opened without write access: reads work, every write fails.
    var isReadOnly: Bool { get }
    /// One write transaction; library errors thrown inside pass through, the engine's become
    /// `StoreError`s a person can act on.
    @discardableResult
    func write<T>(_ body: (any SQLConnection) throws -> T) throws -> T
    /// A write that checks nothing and appends no audit event (a bundle marked delivered): it
    /// commits on its own, without queueing behind the writers' lock.
    func writeUnqueued<T>(_ body: (any SQLConnection) throws -> T) throws -> T
    /// A write of one statement that checks nothing and appends no audit event: atomic on its
    /// own, so sent without BEGIN and COMMIT (two round trips fewer on PostgreSQL).
    func writeOne<T>(_ body: (any SQLConnection) throws -> T) throws -> T
    /// One read transaction: every query inside sees the same snapshot.
    func read<T>(_ body: (any SQLConnection) throws -> T) throws -> T
    /// A read of one statement, which needs no snapshot of its own: it runs without BEGIN and
    /// COMMIT (on PostgreSQL a third of the round trips; on SQLite most of an OCSP lookup's cost).
    func readOne<T>(_ body: (any SQLConnection) throws -> T) throws -> T
    func close() throws(StoreError)
    /// Gives the pages of deleted rows back to the file system; the database's bytes before and
    /// after. Nil where the engine reclaims space itself (PostgreSQL's autovacuum).
    func compact() throws -> (before: Int64, after: Int64)?
    /// The store's revocation count as cheaply as the engine can tell it (see `Store.revocationEpoch`).
    func revocationEpoch() throws -> Int64
    /// The status columns of the certificate `serial` (hex) of the CA with row id `authorityID`
    /// (`StoreQueries.certificateStatus`), as cheaply as the engine can: asked by every OCSP
    /// answer not in the cache. Nil when the CA never issued it.
    func certificateStatus(authorityID: Int64, serial: String) throws -> SQLRow?
}

/// Statements more than one engine's code sends.
enum StoreQueries {
    static let certificateStatus = "SELECT status, revoked_at, revocation_reason FROM certificates WHERE authority_id = ? AND serial = ?"
    static let certificateStatusColumns = SQLRow.Columns(["status", "revoked_at", "revocation_reason"])
}

extension StoreDatabase {
    func certificateStatus(authorityID: Int64, serial: String) throws -> SQLRow? {
        try readOne { db in try db.row(StoreQueries.certificateStatus, authorityID, serial) }
    }
}
