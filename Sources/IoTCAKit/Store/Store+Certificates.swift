import Foundation
import GRDB

/// What `iotca list` selects; nil fields select everything.
public struct CertificateFilter: Sendable {
    public var thing: String?
    public var status: CertificateEntry.Status?
    public var authority: String?
    /// Only certificates whose notAfter falls before this date.
    public var expiringBefore: Date?
    /// Include the certificates CAs hold (root, issuing), not only things'.
    public var includeAuthorities = false

    public init(thing: String? = nil, status: CertificateEntry.Status? = nil, authority: String? = nil, expiringBefore: Date? = nil) {
        self.thing = thing
        self.status = status
        self.authority = authority
        self.expiringBefore = expiringBefore
    }
}

extension CertificateEntry {
    init(issued: IssuedCertificate, authority: String, thing: String?, subjectAuthority: String?, template: String,
         keyAlgorithm: KeyAlgorithm, subjectAltNames: [String] = [], now: Date) {
        self.init(
            serial: issued.serial, authority: authority, thing: thing, subjectAuthority: subjectAuthority,
            template: template, subject: issued.subject.description, subjectAltNames: subjectAltNames,
            keyAlgorithm: keyAlgorithm, notBefore: issued.notValidBefore, notAfter: issued.notValidAfter,
            status: .active, revokedAt: nil, revocationReason: nil,
            fingerprintSHA256: issued.fingerprints.certificateSHA256Hex, spkiSHA256: issued.fingerprints.spkiSHA256Hex,
            der: issued.der,
            // Whole seconds, so the value read back from the store equals this one.
            createdAt: Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down)))
    }

    /// A certificate row; a value that does not parse is a `StoreError.corruptRow`.
    init(row: Row) throws {
        let read = RowDecoder(row, table: "certificates", key: "serial")
        self.init(
            serial: try read.parsed("serial", SerialNumber.init(hex:)),
            authority: try read.value("authority_name"),
            thing: try read.optional("thing"),
            subjectAuthority: try read.optional("subject_authority"),
            template: try read.value("template"),
            subject: try read.value("subject"),
            subjectAltNames: try read.parsed("sans") { try? JSONDecoder().decode([String].self, from: Data($0.utf8)) },
            keyAlgorithm: try read.parsed("key_algorithm", KeyAlgorithm.init(rawValue:)),
            notBefore: try read.value("not_before"),
            notAfter: try read.value("not_after"),
            status: try read.parsed("status", Status.init(rawValue:)),
            revokedAt: try read.optional("revoked_at"),
            revocationReason: try read.optional("revocation_reason"),
            fingerprintSHA256: try read.value("fingerprint_sha256"),
            spkiSHA256: try read.value("spki_sha256"),
            der: Array(try read.value("der", as: Data.self)),
            createdAt: try read.value("created_at"),
            delivery: try read.parsed("delivery", Delivery.init(rawValue:)),
            deliveryTarget: try read.optional("delivery_target"))
    }
}

/// The thing already holds an active certificate and the request did not ask to renew.
public struct IssuanceConflict: IoTCAError, Equatable {
    public let thing: String
    public let activeSerials: [String]
    public var exitStatus: ExitStatus { .conflict }
    public var description: String {
        "thing \(thing) already has an active certificate (serial \(activeSerials.joined(separator: ", "))): pass --renew to issue another"
    }
}

extension Store {
    private static let certificateQuery = """
        SELECT c.*, a.name AS authority_name FROM certificates c JOIN authorities a ON a.id = c.authority_id
        """

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
    /// in one transaction. Unless `renew`, a thing with an active certificate is refused here,
    /// under the write lock, so two factory lines cannot both issue to one thing.
    /// Returns the serials of the thing's other active certificates.
    @discardableResult
    func recordIssuance(_ entry: CertificateEntry, attributes: [String: String], renew: Bool) throws -> [SerialNumber] {
        try write { db in
            var context = IssuanceContext()
            return try insertIssuance(db, entry, attributes: attributes, renew: renew, context: &context)
        }
    }

    /// One row of a batch chunk: the certificate, the thing's attributes, and what to do with
    /// the thing's other active certificates.
    struct Issuance {
        var entry: CertificateEntry
        var attributes: [String: String]
        /// Issue although the thing has active certificates.
        var renew = false
        /// With renew: revoke them (superseded) in the same transaction.
        var supersede = false
        /// Recovery of a run that died between commit and bundle: allowed only while every
        /// active certificate of the thing is still `recorded` for this delivery target; they
        /// are then superseded. Anything else (a bundle written, another target, a certificate
        /// issued meanwhile) is a conflict, so a re-run never revokes what a user holds.
        var recoverTarget: String?
    }

    /// A batch chunk in one transaction: each element is the previous active serials, or the
    /// conflict that kept that row out. Other rows are recorded either way. With `supersede`,
    /// the thing's previous certificates are revoked (superseded) in the same transaction, so a
    /// kill can never leave a thing with two active certificates.
    func recordIssuances(_ items: [Issuance]) throws -> [Result<[SerialNumber], IssuanceConflict>] {
        try write { db in
            var context = IssuanceContext()
            return try items.map { item in
                do {
                    var renew = item.renew, supersede = item.supersede
                    if let target = item.recoverTarget, let thing = item.entry.thing {
                        let active = try Self.activeDeliveries(db, thing: thing)
                        guard active.allSatisfy({ $0.delivery == .recorded && $0.target == target }) else {
                            throw IssuanceConflict(thing: thing, activeSerials: active.map(\.serial.hex))
                        }
                        renew = true
                        supersede = true
                    }
                    let previous = try insertIssuance(db, item.entry, attributes: item.attributes, renew: renew, context: &context)
                    if supersede && !previous.isEmpty, let thing = item.entry.thing {
                        let rows = try Row.fetchAll(db, sql: Self.certificateRowQuery + " WHERE c.thing = ? AND c.status = 'active' AND c.serial != ?",
                                                    arguments: [thing, item.entry.serial.hex])
                        _ = try revokeRows(db, rows.map { ($0["id"], try CertificateEntry(row: $0)) }, reason: .superseded,
                                           invalidityDate: nil, at: item.entry.createdAt)
                        context.lastEventHash = nil  // the revocations appended events of their own
                    }
                    return .success(previous)
                } catch let conflict as IssuanceConflict {
                    return .failure(conflict)
                }
            }
        }
    }

    /// The serials, delivery states and targets of a thing's active certificates.
    static func activeDeliveries(_ db: Database, thing: String) throws
        -> [(serial: SerialNumber, delivery: CertificateEntry.Delivery, target: String?)] {
        try Row.fetchAll(db, sql: "SELECT serial, delivery, delivery_target FROM certificates WHERE thing = ? AND status = 'active' ORDER BY id",
                         arguments: [thing]).map { row in
            guard let serial = SerialNumber(hex: row["serial"]), let delivery = CertificateEntry.Delivery(rawValue: row["delivery"]) else {
                throw StoreError.corruptRow(table: "certificates", key: row["serial"] ?? "?", detail: "unreadable serial or delivery state")
            }
            return (serial, delivery, row["delivery_target"])
        }
    }

    /// Marks certificates whose bundles are written (and synced): from now on no batch re-run
    /// recovers them.
    public func markWritten(_ serials: [(thing: String, serial: SerialNumber)]) throws {
        guard !serials.isEmpty else { return }
        try write { db in
            var update = try RawStatement(db, sql: "UPDATE certificates SET delivery = 'written' WHERE thing = ? AND serial = ? AND delivery = 'recorded'")
            for (thing, serial) in serials {
                update.bind(1, thing)
                update.bind(2, serial.hex)
                try update.run()
            }
        }
    }

    /// Sets a certificate's delivery state as it is: for tests that stage a crash between a
    /// bundle reaching the disk and the store hearing of it.
    func setDelivery(_ delivery: CertificateEntry.Delivery, thing: String, serial: SerialNumber) throws {
        try write { db in
            try db.execute(sql: "UPDATE certificates SET delivery = ? WHERE thing = ? AND serial = ?",
                           arguments: [delivery.rawValue, thing, serial.hex])
        }
    }

    /// Each thing with an active certificate, and whether every one of them is still
    /// `recorded` for `target` (a batch re-run into the same output may recover those).
    public func activeThings(recoverableFor target: String) throws -> [String: Bool] {
        try read { db in
            var result: [String: Bool] = [:]
            let rows = try Row.fetchCursor(db, sql: """
                SELECT thing, MIN(delivery = 'recorded' AND delivery_target IS ?) AS recoverable FROM certificates
                WHERE status = 'active' AND thing IS NOT NULL GROUP BY thing
                """, arguments: [target])
            while let row = try rows.next() { result[row["thing"]] = row["recoverable"] }
            return result
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
            authorityID = try Self.authority(db, named: entry.authority).id
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

    static func activeSerials(_ db: Database, thing: String) throws -> [SerialNumber] {
        var select = try RawStatement(db, sql: "SELECT serial FROM certificates WHERE thing = ? AND status = 'active' ORDER BY id")
        select.bind(1, thing)
        return try select.texts().compactMap(SerialNumber.init(hex:))
    }

    public func activeSerials(thing: String) throws -> [SerialNumber] {
        try read { db in try Self.activeSerials(db, thing: thing) }
    }

    public func certificates(_ filter: CertificateFilter) throws -> [CertificateEntry] {
        var conditions: [String] = []
        var arguments = StatementArguments()
        if !filter.includeAuthorities { conditions.append("c.thing IS NOT NULL") }
        if let thing = filter.thing { conditions.append("c.thing = ?"); arguments += [thing] }
        if let status = filter.status { conditions.append("c.status = ?"); arguments += [status.rawValue] }
        if let authority = filter.authority { conditions.append("a.name = ?"); arguments += [authority] }
        if let before = filter.expiringBefore { conditions.append("c.not_after <= ?"); arguments += [before] }
        let whereClause = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        return try read { db in
            try Row.fetchAll(db, sql: Self.certificateQuery + whereClause + " ORDER BY c.id", arguments: arguments)
                .map { try CertificateEntry(row: $0) }
        }
    }

    /// What `doctor` reads: every certificate, authority and standby key row decoded where it
    /// can be, and a `StoreError.corruptRow` for each one that cannot, so one bad row neither
    /// hides the others nor stops the examination.
    struct Examination {
        var certificates: [CertificateEntry] = []
        var authorities: [Authority] = []
        var standbyKeys: [StandbyKey] = []
        var corrupt: [StoreError] = []
    }

    func examination() throws -> Examination {
        try read { db in
            var corrupt: [StoreError] = []
            func each<T>(_ sql: String, _ decode: (Row) throws -> T) throws -> [T] {
                var list: [T] = []
                for row in try Row.fetchAll(db, sql: sql) {
                    do { list.append(try decode(row)) } catch let error as StoreError { corrupt.append(error) }
                }
                return list
            }
            var result = Examination()
            result.certificates = try each(Self.certificateQuery + " ORDER BY c.id") { try CertificateEntry(row: $0) }
            result.authorities = try each(Self.authorityQuery + " ORDER BY a.id") { try Authority(row: $0) }
            result.standbyKeys = try each("SELECT * FROM standby_keys ORDER BY id") { try StandbyKey(row: $0) }
            result.corrupt = corrupt
            return result
        }
    }

    /// Certificates with this serial (one per issuing CA at most; serials are random, so in
    /// practice one).
    public func certificates(serial: SerialNumber) throws -> [CertificateEntry] {
        try read { db in
            try Row.fetchAll(db, sql: Self.certificateQuery + " WHERE c.serial = ? ORDER BY c.id", arguments: [serial.hex])
                .map { try CertificateEntry(row: $0) }
        }
    }
}

/// Nothing in the store matches what was asked for.
public struct CertificateNotFound: IoTCAError, Equatable {
    public let selector: String
    public init(selector: String) { self.selector = selector }
    public var exitStatus: ExitStatus { .notFound }
    public var description: String {
        "no certificate with serial or thing \(PolicyError.quoted(selector)) in this store: see `iotca list`"
    }
}

extension Store {
    /// `iotca show`: a serial in hex first, else the thing's newest active certificate, else its newest.
    public func certificate(matching selector: String) throws -> CertificateEntry {
        if let serial = SerialNumber(hex: selector), let entry = try certificates(serial: serial).last {
            return entry
        }
        let entries = try certificates(CertificateFilter(thing: selector))
        guard let entry = entries.last(where: { $0.status == .active }) ?? entries.last else {
            throw CertificateNotFound(selector: selector)
        }
        return entry
    }
}

extension Store {
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
