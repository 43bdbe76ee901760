import Foundation

extension Store {
    static func insertCertificate(_ db: any SQLConnection, _ entry: CertificateEntry, authorityID: Int64) throws {
        // A batch runs this thousands of times per transaction: values built directly, dates
        // as GRDB's own text form written without a DateFormatter.
        try db.execute("""
            INSERT INTO certificates (serial, authority_id, thing, subject_authority, template, subject, sans,
                key_algorithm, not_before, not_after, status, der, created_at, delivery, delivery_target)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [
                .text(entry.serial.hex), .integer(authorityID), entry.thing.sqlValue, entry.subjectAuthority.sqlValue,
                .text(entry.template), .text(entry.subject), .text(CompactJSON.array(entry.subjectAltNames)),
                .text(entry.keyAlgorithm.rawValue), .text(CivilTime.storeText(entry.notBefore)),
                .text(CivilTime.storeText(entry.notAfter)), .text(entry.status.rawValue), .blob(entry.der),
                .text(CivilTime.storeText(entry.createdAt)), .text(entry.delivery.rawValue), entry.deliveryTarget.sqlValue,
            ])
    }

    /// Records a certificate issued to a thing, with the thing's attributes and the audit event,
    /// in one transaction, shared with other threads recording at the same moment (`GroupCommit`).
    /// Unless `renew`, a thing with an active certificate is refused here, under the write
    /// lock, so two factory lines cannot both issue to one thing.
    /// Returns the serials of the thing's other active certificates.
    @discardableResult
    /// With `reachable` (a caller limited by grants), a thing holding or having held a
    /// certificate of another template is refused here too, under the write lock: an operator
    /// certificate issued to the name since the plan read it is never replaced by a station.
    func recordIssuance(_ entry: CertificateEntry, attributes: [String: String], renew: Bool,
                        reach: Caller.Reach? = nil) throws -> [SerialNumber] {
        let issuance = GroupCommit.Issuance(entry: entry, attributes: attributes, renew: renew, reach: reach,
                                            client: AuditEvent.client)
        return try commits.record(issuance) { group in
            do {
                // On PostgreSQL in one call beside other nodes' issuances (`PostgresIssuance`).
                return try database is PostgresDatabase ? recordOnPostgres(group) : recordExclusively(group)
            } catch {
                return group.map { _ in .failure(error) }
            }
        }
    }

    /// A group in one transaction under the write lock (exclusive on PostgreSQL).
    func recordExclusively(_ group: [GroupCommit.Issuance]) throws -> [GroupCommit.Outcome] {
        try write { db in
            var context = IssuanceContext()
            return try group.map { issuance -> GroupCommit.Outcome in
                do {
                    if let reach = issuance.reach, let thing = issuance.entry.thing {
                        try Self.requireReach(db, reach, thing: thing, caller: issuance.client)
                    }
                    return .success(try AuditEvent.$client.withValue(issuance.client) {
                        try insertIssuance(db, issuance.entry, attributes: issuance.attributes, renew: issuance.renew, context: &context)
                    })
                } catch let conflict as IssuanceConflict {
                    // Refused before it wrote anything: the others' rows stand.
                    return .failure(conflict)
                } catch let denied as AccessDenied {
                    return .failure(denied)
                } catch let refused as AuthorityError {
                    return .failure(refused)
                }
            }
        }
    }

    /// Refuses, under the write lock, a thing that holds or held a certificate the caller's
    /// reach does not cover (one issued since the plan read the history included).
    static func requireReach(_ db: any SQLConnection, _ reach: Caller.Reach, thing: String, caller: String?) throws {
        try requireReach(try history(db, thing: thing), reach, thing: thing, caller: caller)
    }

    static func requireReach(_ history: Set<Caller.IssuedAs>, _ reach: Caller.Reach, thing: String, caller: String?) throws {
        guard history.allSatisfy(reach.covers) else {
            throw AccessDenied(caller: caller ?? "this caller", reason: "touch \(thing): it holds or held certificates its grants do not cover")
        }
    }

    /// One row of a batch chunk: the certificate, the thing's attributes, and what to do with
    /// the thing's other active certificates.
    struct Issuance {
        var entry: CertificateEntry
        var attributes: [String: String]
        /// For a caller limited by grants (a station's recovery through the API).
        var reach: Caller.Reach?
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
        if database is PostgresDatabase, items.allSatisfy({ $0.reach == nil && $0.recoverTarget == nil }) {
            let group = items.map { GroupCommit.Issuance(entry: $0.entry, attributes: $0.attributes, renew: false, reach: nil,
                                                         client: AuditEvent.client) }
            return try recordOnPostgres(group).map { outcome in
                switch outcome {
                case .success(let previous): return .success(previous)
                case .failure(let conflict as IssuanceConflict): return .failure(conflict)
                case .failure(let error): throw error
                }
            }
        }
        return try write { db in
            var context = IssuanceContext()
            return try items.map { item in
                do {
                    if let reach = item.reach, let thing = item.entry.thing {
                        try Self.requireReach(db, reach, thing: thing, caller: AuditEvent.client)
                    }
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

    /// What the rows of one transaction share: the audit chain's last hash (no other writer
    /// can append while the transaction holds the write lock).
    struct IssuanceContext {
        var lastEventHash: String?
        /// CAs found able to issue in this transaction (checked once each).
        var issuing: Set<String> = []
    }

    private func insertIssuance(_ db: any SQLConnection, _ entry: CertificateEntry, attributes: [String: String], renew: Bool,
                                context: inout IssuanceContext) throws -> [SerialNumber] {
        guard let thing = entry.thing else { throw StoreError.database("an issuance needs a thing") }
        if !context.issuing.contains(entry.authority) {
            // Under the write lock: a CA disabled or revoked since the plan read it issues nothing.
            let status = try db.value(String.self, "SELECT status FROM authorities WHERE name = ?", entry.authority)
            guard let status = status.flatMap(Authority.Status.init(rawValue:)) else { throw AuthorityError.notFound(entry.authority) }
            if let refusal = status.refusalToIssue(entry.authority) { throw refusal }
            context.issuing.insert(entry.authority)
        }
        let active = try Self.activeSerials(db, thing: thing)
        if !active.isEmpty && !renew { throw IssuanceConflict(thing: thing, activeSerials: active.map(\.hex)) }
        let authorityID = try cachedAuthorityID(named: entry.authority) { try Self.authorityID(db, named: entry.authority) }
        let created = CivilTime.storeText(entry.createdAt)
        try db.execute("""
            INSERT INTO things (name, attributes, created_at, updated_at) VALUES (?, ?, ?, ?)
            ON CONFLICT(name) DO UPDATE SET attributes = excluded.attributes, updated_at = excluded.updated_at
            """, [.text(thing), .text(CompactJSON.object(attributes)), .text(created), .text(created)])
        try Self.insertCertificate(db, entry, authorityID: authorityID)
        try appendEvent(db, action: renew && !active.isEmpty ? "certificate.renew" : "certificate.issue", subject: thing,
                        details: Self.issuanceDetails(entry), at: entry.createdAt, lastHash: &context.lastEventHash)
        return active
    }

    /// An issuance event's details, on both engines' paths (`PostgresIssuance` too): the
    /// validity is not repeated, it is in the DER this hash binds and in the certificate's row.
    static func issuanceDetails(_ entry: CertificateEntry) -> [String: String] {
        ["serial": entry.serial.hex, "ca": entry.authority, "template": entry.template, "certificate_sha256": entry.fingerprintSHA256]
    }

    /// The row id of CA `name`, looked up by `lookup` the first time only.
    func cachedAuthorityID(named name: String, lookup: () throws -> Int64) throws -> Int64 {
        if let cached = authorityIDs.withLock({ $0[name] }) { return cached }
        let id = try lookup()
        authorityIDs.withLock { $0[name] = id }
        return id
    }
    /// The row id of CA `name`: what recording needs, without decoding the CA's row.
    static func authorityID(_ db: any SQLConnection, named name: String) throws -> Int64 {
        guard let id = try db.value(Int64.self, "SELECT id FROM authorities WHERE name = ?", name) else {
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
