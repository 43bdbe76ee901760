import Foundation

extension Store {
    /// What one issuance event recorded beside what the store holds now for that certificate.
    struct IssuanceEventCheck {
        var event: Int64
        /// The thing, serial, CA and DER SHA-256 the event (in the hash chain) names.
        var thing: String, serial: String, authority: String, sha256: String
        /// The row with that serial and CA now: its thing and DER; nil when there is none.
        var rowThing: String?, der: [UInt8]?
    }

    /// Every issuance event with a certificate named in its details, in order, joined to the
    /// certificate row it names, one at a time from one snapshot. The event is covered by the
    /// chain (and the CA-signed checkpoints), the row is not: a row whose DER or thing differs
    /// from its event was changed after it was recorded.
    func forEachIssuanceEvent(_ body: (IssuanceEventCheck) throws -> Void) throws {
        // The one place the engines' JSON functions differ.
        let field = { (name: String) in
            self.isShared ? "(CAST(e.details AS jsonb) ->> '\(name)')" : "json_extract(e.details, '$.\(name)')"
        }
        let sql = """
            SELECT e.id, e.subject, \(field("serial")) AS serial, \(field("ca")) AS ca, \(field("certificate_sha256")) AS sha,
                c.thing AS row_thing, c.der
            FROM events e LEFT JOIN authorities a ON a.name = \(field("ca"))
            LEFT JOIN certificates c ON c.serial = \(field("serial")) AND c.authority_id = a.id
            WHERE e.action IN ('certificate.issue', 'certificate.renew') ORDER BY e.id
            """
        try read { db in
            try db.forEachRow(sql, []) { row in
                // An event whose details no longer name a certificate is the chain check's to report.
                guard let id: Int64 = row.get("id"), let thing: String = row.get("subject"), let serial: String = row.get("serial"),
                      let authority: String = row.get("ca"), let sha256: String = row.get("sha") else { return }
                let der: Data? = row.get("der")
                try body(IssuanceEventCheck(event: id, thing: thing, serial: serial, authority: authority, sha256: sha256,
                                            rowThing: row.get("row_thing"), der: der.map { Array($0) }))
            }
        }
    }
}
