import Foundation

extension Store {
    /// Replaces the grants of a client (a station's thing name), with an audit event.
    func setGrants(_ grants: [ClientGrant], of client: String) throws {
        try write { db in
            try db.execute("DELETE FROM client_grants WHERE client = ?", client)
            for grant in Set(grants).sorted(by: { $0.description < $1.description }) {
                try db.execute("INSERT INTO client_grants (client, template, pattern) VALUES (?, ?, ?)", client, grant.template, grant.storedPattern)
            }
            try appendEvent(db, action: "client.grants", subject: client,
                            details: ["grants": grants.map(\.description).sorted().joined(separator: " ")])
        }
    }

    /// A client's grants, in a stable order.
    public func grants(of client: String) throws -> [ClientGrant] {
        try readOne { db in try Self.grants(db, of: client) }
    }

    static func grants(_ db: any SQLConnection, of client: String) throws -> [ClientGrant] {
        try db.rows("SELECT template, pattern FROM client_grants WHERE client = ? ORDER BY template, pattern", client).map { row in
            do throws(PolicyError) {
                return try ClientGrant(template: row.get("template") ?? "", options: row.get("pattern") ?? "")
            } catch {
                throw StoreError.corruptRow(table: "client_grants", key: client, detail: error.description)
            }
        }
    }
}
