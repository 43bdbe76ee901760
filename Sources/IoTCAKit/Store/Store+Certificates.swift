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

    /// What planning an issuance reads, in one read transaction: the CA, and the thing's active
    /// certificates. (The write re-checks both under the write lock; this read lets a conflict
    /// or a disabled CA be refused before anything is signed.)
    /// With `history`, also the template and CA of every certificate the thing holds or held
    /// (what a caller limited by grants must cover to touch it).
    /// And the templates' version (`templatesVersion`), so a long-lived process sees a template
    /// added, replaced or removed at once.
    public func issuanceFacts(authority name: String, thing: String, history: Bool = false) throws
        -> (authority: Authority, active: [SerialNumber], history: Set<Caller.IssuedAs>, templatesVersion: String) {
        try read { db in
            (try Self.authority(db, named: name), try Self.activeSerials(db, thing: thing),
             history ? try Self.history(db, thing: thing) : [], try templatesVersion(db))
        }
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
        var conditions: [String] = []
        var arguments: [SQLValue] = []
        if !filter.includeAuthorities { conditions.append("c.thing IS NOT NULL") }
        if let thing = filter.thing { conditions.append("c.thing = ?"); arguments.append(.text(thing)) }
        if let status = filter.status { conditions.append("c.status = ?"); arguments.append(.text(status.rawValue)) }
        if let authority = filter.authority { conditions.append("a.name = ?"); arguments.append(.text(authority)) }
        if let before = filter.expiringBefore { conditions.append("c.not_after <= ?"); arguments.append(before.sqlValue) }
        if let after = filter.after {
            conditions.append("c.id > COALESCE((SELECT MIN(id) FROM certificates WHERE serial = ?), -1)")
            arguments.append(.text(after.hex))
        }
        let whereClause = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        let limitClause = filter.limit.map { " LIMIT \(max(0, $0))" } ?? ""
        return try readOne { db in
            try db.rows(Self.certificateQuery + whereClause + " ORDER BY c.id" + limitClause, arguments)
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
            func each<T>(_ sql: String, _ decode: (SQLRow) throws -> T) throws -> [T] {
                var list: [T] = []
                for row in try db.rows(sql) {
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
