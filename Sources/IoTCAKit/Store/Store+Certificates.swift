import Foundation

extension Store {
    /// Every certificate column and its CA's name: the one query certificate rows are read by.
    static let certificateQuery = """
        SELECT c.*, a.name AS authority_name FROM certificates c JOIN authorities a ON a.id = c.authority_id
        """

    static func activeSerials(_ db: any SQLConnection, thing: String) throws -> [SerialNumber] {
        try db.values(String.self, "SELECT serial FROM certificates WHERE thing = ? AND status = 'active' ORDER BY id", thing)
            .compactMap(SerialNumber.init(hex:))
    }

    public func activeSerials(thing: String) throws -> [SerialNumber] {
        try readOne { db in try Self.activeSerials(db, thing: thing) }
    }

    /// The template and CA of every certificate `thing` holds or held.
    static func history(_ db: any SQLConnection, thing: String) throws -> Set<Caller.IssuedAs> {
        Set(try db.rows("""
            SELECT DISTINCT c.template, a.name FROM certificates c JOIN authorities a ON a.id = c.authority_id WHERE c.thing = ?
            """, thing).map { Caller.IssuedAs(template: $0.get(0) ?? "", authority: $0.get(1) ?? "") })
    }

    public func history(thing: String) throws -> Set<Caller.IssuedAs> {
        try readOne { db in try Self.history(db, thing: thing) }
    }

    public func certificates(_ filter: CertificateFilter) throws -> [CertificateEntry] {
        let (sql, arguments) = Self.certificateSelection(filter)
        return try readOne { db in try db.rows(sql, arguments).map { try CertificateEntry(row: $0) } }
    }

    /// The certificates `filter` selects, in the order they were recorded (expiring ones soonest
    /// first), one at a time: a
    /// fleet's list never sits in memory. All of them come from one snapshot; `body` must not
    /// use the store meanwhile (a SQLite read transaction is not reentrant).
    public func forEachCertificate(_ filter: CertificateFilter, _ body: (CertificateEntry) throws -> Void) throws {
        let (sql, arguments) = Self.certificateSelection(filter)
        try read { db in try db.forEachRow(sql, arguments) { try body(try CertificateEntry(row: $0)) } }
    }

    /// The query behind `certificates` and `forEachCertificate`; each selective condition has an
    /// index (`thing`, revoked, `authority_id`, `template`, `not_after`: see the schema), so a
    /// fleet query costs what it returns.
    static func certificateSelection(_ filter: CertificateFilter) -> (String, [SQLValue]) {
        var conditions: [String] = []
        var arguments: [SQLValue] = []
        if !filter.includeAuthorities { conditions.append("c.thing IS NOT NULL") }
        if let thing = filter.thing { conditions.append("c.thing = ?"); arguments.append(.text(thing)) }
        if let status = filter.status {
            // Written out, not bound: the revoked rows' partial index (`status = 'revoked'`)
            // serves only a query that names the value. Active rows are most of a fleet: read
            // in the recorded order, they cost what the listing returns.
            conditions.append("c.status = '\(status.rawValue)'")
        }
        if let authority = filter.authority {
            conditions.append("c.authority_id = (SELECT id FROM authorities WHERE name = ?)")
            arguments.append(.text(authority))
        }
        if let template = filter.template { conditions.append("c.template = ?"); arguments.append(.text(template)) }
        if let since = filter.changedSince {
            conditions.append("(c.created_at >= ? OR c.revoked_at >= ?)")
            arguments += [since.sqlValue, since.sqlValue]
        }
        if let before = filter.expiringBefore { conditions.append("c.not_after <= ?"); arguments.append(before.sqlValue) }
        if let after = filter.after {
            conditions.append("c.id > COALESCE((SELECT MIN(id) FROM certificates WHERE serial = ?), -1)")
            arguments.append(.text(after.hex))
        }
        let whereClause = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        let limitClause = filter.limit.map { " LIMIT \(max(0, $0))" } ?? ""
        // Expiring certificates come soonest first, in the order of the not_after index: the
        // index then answers the query without a sort or a scan of the fleet.
        let order = filter.expiringBefore == nil ? " ORDER BY c.id" : " ORDER BY c.not_after, c.id"
        return (certificateQuery + whereClause + order + limitClause, arguments)
    }

    /// What `doctor` reads besides the certificates: every authority and standby key row
    /// decoded where it can be, and a `StoreError.corruptRow` for each one that cannot, so one
    /// bad row neither hides the others nor stops the examination.
    struct Examination {
        var authorities: [Authority] = []
        var standbyKeys: [StandbyKey] = []
        var corrupt: [StoreError] = []
    }

    func examination() throws -> Examination {
        try read { db in
            var corrupt: [StoreError] = []
            func each<T>(_ sql: String, _ decode: (SQLRow) throws -> T) throws -> [T] {
                var list: [T] = []
                for row in try db.rows(sql) {
                    do { list.append(try decode(row)) } catch let error as StoreError { corrupt.append(error) }
                }
                return list
            }
            var result = Examination()
            result.authorities = try each(Self.authorityQuery + " ORDER BY a.id") { try Authority(row: $0) }
            result.standbyKeys = try each("SELECT * FROM standby_keys ORDER BY id") { try StandbyKey(row: $0) }
            result.corrupt = corrupt
            return result
        }
    }

    /// Every certificate row for `doctor`, streamed from one snapshot: decoded, or the
    /// `StoreError.corruptRow` it raised. With `sample`, about that many rows picked at random
    /// (a lookup by id each, not a scan): a quick look at a huge store.
    func examineCertificates(sample: Int? = nil, _ body: (Result<CertificateEntry, StoreError>) throws -> Void) throws {
        func decode(_ row: SQLRow) -> Result<CertificateEntry, StoreError> {
            do { return .success(try CertificateEntry(row: row)) } catch let error as StoreError { return .failure(error) } catch {
                return .failure(.corruptRow(table: "certificates", key: "\(row["id"])", detail: "\(error)"))
            }
        }
        try read { db in
            guard let sample else {
                return try db.forEachRow(Self.certificateQuery + " ORDER BY c.id", []) { try body(decode($0)) }
            }
            guard let low = try db.value(Int64.self, "SELECT MIN(id) FROM certificates"),
                  let high = try db.value(Int64.self, "SELECT MAX(id) FROM certificates"), sample > 0 else { return }
            var seen: Set<Int64> = []
            for _ in 0..<sample {
                guard let row = try db.row(Self.certificateQuery + " WHERE c.id >= ? ORDER BY c.id LIMIT 1", Int64.random(in: low...high)),
                      let id: Int64 = row.get("id"), seen.insert(id).inserted else { continue }
                try body(decode(row))
            }
        }
    }

    /// How many things hold or held a certificate, counted by the database.
    func thingCount() throws -> Int {
        try readOne { db in Int(try db.value(Int64.self, "SELECT COUNT(DISTINCT thing) FROM certificates WHERE thing IS NOT NULL") ?? 0) }
    }

    /// Certificates with this serial (one per issuing CA at most; serials are random, so in
    /// practice one).
    public func certificates(serial: SerialNumber) throws -> [CertificateEntry] {
        try readOne { db in
            try db.rows(Self.certificateQuery + " WHERE c.serial = ? ORDER BY c.id", serial.hex)
                .map { try CertificateEntry(row: $0) }
        }
    }

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
