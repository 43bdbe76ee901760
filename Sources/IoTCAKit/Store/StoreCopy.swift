import Crypto
import Foundation

/// Copies a whole store into an empty shared database, in one transaction: every row of every
/// table with its id (so the audit chain, which hashes ids' order, and every reference stay
/// exactly as they were), and the store files (encrypted key files, templates). A copy killed
/// half-way leaves the database as empty as it found it. `iotca store migrate` and `init` on a
/// database (which builds the store in a private folder first) both end here.
enum StoreCopy {
    /// Tables in an order that puts every referenced row before its referrers.
    /// Settings last: the target's triggers count CA rows as they arrive, and the copied
    /// settings then carry the source's own count.
    static let tables: [(name: String, order: String)] = [
        ("authorities", "id"), ("things", "id"), ("certificates", "id"), ("crls", "id"),
        ("standby_keys", "id"), ("events", "id"), ("client_grants", "client, template, pattern"),
        ("enrolment_tokens", "thing"), ("scheduled_supersessions", "certificate_id"), ("next_keys", "certificate_id"),
        ("claim_openings", "thing"), ("cmp_confirmations", "transaction_id"), ("cmp_nonces", "nonce"),
        ("settings", "key"),
    ]
    /// SQLite keeps booleans as integers; PostgreSQL's columns want booleans.
    static let booleans: Set<String> = ["key_encrypted", "crl_stale"]
    /// Rows read and written per statement: bounded memory for a store of millions of rows, and
    /// under PostgreSQL's 65,535 parameters per statement.
    static let page = 2_000

    struct Counts: Sendable, Equatable, Encodable {
        var rows: [String: Int] = [:]
        var files = 0
    }

    /// The store files a copy carries: the key files rows refer to (not a killed create's
    /// leftovers), and the templates.
    static func copiedFiles(of store: Store) throws -> [String] {
        try store.read { db in
            try db.values(String.self, "SELECT key_file FROM authorities UNION SELECT key_file FROM standby_keys")
        }.filter { !PKCS11URI.isURI($0) }.sorted() + (try store.files.list("templates")).map { "templates/" + $0 }
    }

    /// A SHA-256 of every row of every table, in key order, and of every store file: two
    /// stores with equal digests hold the same record, value for value (booleans compare as
    /// the integers both engines read them as; dates are the same text in both).
    static func digest(of store: Store) throws -> String {
        var hash = SHA256()
        func feed(_ text: String) { hash.update(data: Array(text.utf8)) }
        for (table, order) in tables {
            var offset = 0
            while true {
                let rows = try store.read { db in try db.rows("SELECT * FROM \(table) ORDER BY \(order) LIMIT \(page) OFFSET \(offset)") }
                guard !rows.isEmpty else { break }
                for row in rows {
                    feed("\u{1}\(table)")
                    for (name, value) in zip(row.columns.names, row.values) {
                        feed("\u{2}\(name)=")
                        switch value {
                        case .null: feed("null")
                        case .integer(let number): feed("i\(number)")
                        case .boolean(let flag): feed("i\(flag ? 1 : 0)")
                        case .real(let number): feed("r\(number)")
                        case .text(let text): feed("t"); feed(text)
                        case .blob(let bytes): feed("b"); hash.update(data: bytes)
                        }
                    }
                }
                offset += rows.count
            }
        }
        for file in try copiedFiles(of: store) {
            feed("\u{3}\(file)")
            hash.update(data: try store.files.read(file) ?? [])
        }
        return Array(hash.finalize()).hexString
    }

    /// Copies `source` (a folder store) into `target` (a shared store with no CA yet).
    /// - Throws: `StoreError.badLocation` when a CA key is not encrypted (it would sit in the
    ///   clear in a database other machines read); store errors of either side.
    @discardableResult
    static func copy(from source: Store, to target: Store, beforeCommit: () -> Void = {}) throws -> Counts {
        let plaintext = try source.read { db in
            try db.values(String.self, "SELECT name FROM authorities WHERE key_encrypted = FALSE AND key_file NOT LIKE 'pkcs11:%'")
        }
        if let name = plaintext.first {
            throw StoreError.badLocation(target.location.description, detail: "CA \(name)'s key file is not encrypted, and a shared database would hold it in the clear for every machine that reads it: change the store's passphrase first, which encrypts every key")
        }
        let files = try copiedFiles(of: source)
        var counts = Counts()
        try target.write { into in
            // Checked again under the writers' lock: of two copies at once (two `init`s, two
            // migrations), the second finds the first's CAs and changes nothing.
            if try into.row("SELECT 1 FROM authorities LIMIT 1") != nil {
                throw StoreError.alreadyExists(path: target.location.description)
            }
            // A new database has only its schema's own settings (the revocation count).
            try into.execute("DELETE FROM settings", [])
            for (table, order) in tables {
                var offset = 0
                while true {
                    let rows = try source.read { db in try db.rows("SELECT * FROM \(table) ORDER BY \(order) LIMIT \(page) OFFSET \(offset)") }
                    guard let first = rows.first else { break }
                    let names = first.columns.names
                    let width = names.count
                    for chunk in stride(from: 0, to: rows.count, by: max(1, 60_000 / width)).map({ rows[$0..<min(rows.count, $0 + 60_000 / width)] }) {
                        let tuple = "(" + Array(repeating: "?", count: width).joined(separator: ", ") + ")"
                        let sql = "INSERT INTO \(table) (\(names.joined(separator: ", "))) VALUES "
                            + Array(repeating: tuple, count: chunk.count).joined(separator: ", ")
                        var values: [SQLValue] = []
                        values.reserveCapacity(chunk.count * width)
                        for row in chunk {
                            for (index, name) in names.enumerated() {
                                let value = row[index]
                                if booleans.contains(name), case .integer(let number) = value { values.append(.boolean(number != 0)) }
                                else { values.append(value) }
                            }
                        }
                        try into.execute(sql, values)
                    }
                    counts.rows[table, default: 0] += rows.count
                    offset += rows.count
                }
            }
            // Identity columns carry on after the copied ids.
            for (table, order) in tables where order == "id" {
                try into.execute("SELECT setval(pg_get_serial_sequence('\(table)', 'id'), GREATEST((SELECT MAX(id) FROM \(table)), 1))", [])
            }
            for file in files {
                guard let bytes = try source.files.read(file) else {
                    throw StoreError.io(path: source.files.describe(file), detail: "the store refers to it but it is missing")
                }
                try into.execute("INSERT INTO files (path, content, mode, created_at) VALUES (?, ?, ?, ?)",
                                 [.text(file), .blob(bytes), .integer(file.hasPrefix("keys/") ? 0o600 : 0o644), source.clock.now().sqlValue])
                counts.files += 1
            }
            beforeCommit()
        }
        return counts
    }

    /// The source's `public/` files (CA certificates, CRLs) into the target's folder: a node's
    /// copies, for brokers beside it; and its service root pin (`ServiceRootPin`).
    static func copyPublicFiles(from source: Store, to target: Store) throws {
        let folder = source.layout.publicFolder
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [] where !name.hasPrefix(".") {
            if let bytes = FileManager.default.contents(atPath: folder.appendingPathComponent(name).path) {
                try AtomicFile.write(Array(bytes), to: target.layout.publicFolder.appendingPathComponent(name))
            }
        }
        // The node that copies a store pins the service root it copied: the source's pin, or,
        // for a store made before pins, the source's own record (a local folder, trusted as
        // the copy is).
        let recorded = try? source.authority(named: ServiceHierarchy.rootName).certificateDER
        if let der = try ServiceRootPin(folder: source.layout.root).read() ?? recorded {
            try ServiceRootPin(folder: target.layout.root).write(der)
        }
    }
}
