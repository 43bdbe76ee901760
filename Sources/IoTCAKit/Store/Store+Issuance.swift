import Foundation
import GRDB

extension Store {
    static func insertCertificate(_ db: Database, _ entry: CertificateEntry, authorityID: Int64) throws {
        // A batch runs this thousands of times per transaction: bound through SQLite's C API,
        // dates as GRDB's own text form, written without its DateFormatter.
        var insert = try RawStatement(db, sql: """
            INSERT INTO certificates (serial, authority_id, thing, subject_authority, template, subject, sans,
                key_algorithm, not_before, not_after, status, fingerprint_sha256, spki_sha256, der, created_at,
                delivery, delivery_target)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        insert.bind(1, entry.serial.hex)
        insert.bind(2, authorityID)
        insert.bind(3, entry.thing)
        insert.bind(4, entry.subjectAuthority)
        insert.bind(5, entry.template)
        insert.bind(6, entry.subject)
        insert.bind(7, CompactJSON.array(entry.subjectAltNames))
        insert.bind(8, entry.keyAlgorithm.rawValue)
        insert.bind(9, CivilTime.storeText(entry.notBefore))
        insert.bind(10, CivilTime.storeText(entry.notAfter))
        insert.bind(11, entry.status.rawValue)
        insert.bind(12, entry.fingerprintSHA256)
        insert.bind(13, entry.spkiSHA256)
        insert.bind(14, blob: entry.der)
        insert.bind(15, CivilTime.storeText(entry.createdAt))
        insert.bind(16, entry.delivery.rawValue)
        insert.bind(17, entry.deliveryTarget)
        try insert.run()
    }

    /// Records a certificate issued to a thing, with the thing's attributes and the audit event,
    /// in one transaction, shared with other threads recording at the same moment (`GroupCommit`).
    /// Unless `renew`, a thing with an active certificate is refused here, under the write
    /// lock, so two factory lines cannot both issue to one thing.
    /// Returns the serials of the thing's other active certificates.
    @discardableResult
    func recordIssuance(_ entry: CertificateEntry, attributes: [String: String], renew: Bool) throws -> [SerialNumber] {
        let issuance = GroupCommit.Issuance(entry: entry, attributes: attributes, renew: renew, client: AuditEvent.client)
        return try commits.record(issuance) { group in
            do {
                return try write { db in
                    var context = IssuanceContext()
                    return try group.map { issuance -> GroupCommit.Outcome in
                        do {
                            return .success(try AuditEvent.$client.withValue(issuance.client) {
                                try insertIssuance(db, issuance.entry, attributes: issuance.attributes, renew: issuance.renew, context: &context)
                            })
                        } catch let conflict as IssuanceConflict {
                            // Refused before it wrote anything: the others' rows stand.
                            return .failure(conflict)
                        }
                    }
                }
            } catch {
                return group.map { _ in .failure(error) }
            }
        }
    }

    /// One row of a batch chunk: the certificate, the thing's attributes, and what to do with
    /// the thing's other active certificates.
    struct Issuance {
        var entry: CertificateEntry
        var attributes: [String: String]
        /// Recovery of a run that died between commit and bundle: allowed only while every
        /// active certificate of the thing is still `recorded` for this delivery target; they
        /// are then superseded. Anything else (a bundle written, another target, a certificate
        /// issued meanwhile) is a conflict, so a re-run never revokes what a user holds.
        var recoverTarget: String?
    }

    /// A batch chunk in one transaction: each element is the previous active serials, or the
    /// conflict that kept that row out. Other rows are recorded either way. A recovered row's
    /// unwritten predecessors are superseded in the same transaction, so a kill can never leave
    /// a thing with two active certificates.
    func recordIssuances(_ items: [Issuance]) throws -> [Result<[SerialNumber], IssuanceConflict>] {
        try write { db in
            var context = IssuanceContext()
            return try items.map { item in
                do {
                    guard let target = item.recoverTarget, let thing = item.entry.thing else {
                        return .success(try insertIssuance(db, item.entry, attributes: item.attributes, renew: false, context: &context))
                    }
                    let active = try Self.activeDeliveries(db, thing: thing)
                    guard active.allSatisfy({ $0.delivery == .recorded && $0.target == target }) else {
                        throw IssuanceConflict(thing: thing, activeSerials: active.map(\.serial.hex))
                    }
                    let previous = try insertIssuance(db, item.entry, attributes: item.attributes, renew: true, context: &context)
                    if !previous.isEmpty {
                        _ = try supersedeRows(db, thing: thing, serials: previous, at: item.entry.createdAt)
                        context.lastEventHash = nil  // the revocations appended events of their own
                    }
                    return .success(previous)
                } catch let conflict as IssuanceConflict {
                    return .failure(conflict)
                }
            }
        }
    }

    /// What the rows of one transaction share: the issuing CAs' row ids, and the audit chain's
    /// last hash (no other writer can append while the transaction holds the write lock).
    struct IssuanceContext {
        var authorityIDs: [String: Int64] = [:]
        var lastEventHash: String?
    }

    private func insertIssuance(_ db: Database, _ entry: CertificateEntry, attributes: [String: String], renew: Bool,
                                context: inout IssuanceContext) throws -> [SerialNumber] {
        guard let thing = entry.thing else { throw StoreError.database("an issuance needs a thing") }
        let active = try Self.activeSerials(db, thing: thing)
        if !active.isEmpty && !renew { throw IssuanceConflict(thing: thing, activeSerials: active.map(\.hex)) }
        let authorityID: Int64
        if let cached = context.authorityIDs[entry.authority] {
            authorityID = cached
        } else {
            authorityID = try Self.authorityID(db, named: entry.authority)
            context.authorityIDs[entry.authority] = authorityID
        }
        let created = CivilTime.storeText(entry.createdAt)
        var upsert = try RawStatement(db, sql: """
            INSERT INTO things (name, attributes, created_at, updated_at) VALUES (?, ?, ?, ?)
            ON CONFLICT(name) DO UPDATE SET attributes = excluded.attributes, updated_at = excluded.updated_at
            """)
        upsert.bind(1, thing)
        upsert.bind(2, CompactJSON.object(attributes))
        upsert.bind(3, created)
        upsert.bind(4, created)
        try upsert.run()
        try Self.insertCertificate(db, entry, authorityID: authorityID)
        try appendEvent(db, action: renew && !active.isEmpty ? "certificate.renew" : "certificate.issue", subject: thing, details: [
            "serial": entry.serial.hex, "ca": entry.authority, "template": entry.template,
            "not_after": Self.timestamp(entry.notAfter), "certificate_sha256": entry.fingerprintSHA256,
        ], at: entry.createdAt, lastHash: &context.lastEventHash)
        return active
    }
    /// The row id of CA `name`: what recording needs, without decoding the CA's row.
    static func authorityID(_ db: Database, named name: String) throws -> Int64 {
        guard let id = try Int64.fetchOne(db.cachedStatement(sql: "SELECT id FROM authorities WHERE name = ?"), arguments: [name]) else {
            throw AuthorityError.notFound(name)
        }
        return id
    }

    /// Records a certificate issued to no thing (an AWS verification certificate) with its event.
    func recordCertificate(_ entry: CertificateEntry, action: String, subject: String) throws {
        try write { db in
            let authority = try Self.authority(db, named: entry.authority)
            try Self.insertCertificate(db, entry, authorityID: authority.id)
            try appendEvent(db, action: action, subject: subject, details: [
                "serial": entry.serial.hex, "ca": entry.authority, "certificate_sha256": entry.fingerprintSHA256,
            ], at: entry.createdAt)
        }
    }
}
