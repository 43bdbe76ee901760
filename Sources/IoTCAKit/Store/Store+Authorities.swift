import Foundation

extension Store {
    /// A CA about to be recorded, with the certificate a CA of this store issued it (nil for an
    /// external CA still waiting for its certificate).
    struct NewAuthority {
        var name: String
        var kind: Authority.Kind
        var parentName: String?
        var status: Authority.Status
        var keyAlgorithm: KeyAlgorithm
        var keyFile: String
        var keyEncrypted: Bool
        var issued: IssuedCertificate?
        var template: String
        var csrDER: [UInt8]?
        var subject: String
        var crlValidity: Int64 = Authority.defaultCRLValidity
        var crlURL: String? = nil
        var caIssuersURL: String? = nil
        var ocspURL: String? = nil
        /// The standby key this CA is made from (`rotate-root`), marked used in the same transaction.
        var standbyKey: String? = nil
    }

    /// A CA's row and its parent's name: `authorityColumns + authorityJoin`, with room between
    /// them for a caller's extra columns.
    static let authorityColumns = "SELECT a.*, p.name AS parent_name"
    static let authorityJoin = " FROM authorities a LEFT JOIN authorities p ON p.id = a.parent_id"
    static let authorityQuery = authorityColumns + authorityJoin

    public func authorities() throws -> [Authority] {
        try readOne { db in try db.rows(Self.authorityQuery + " ORDER BY a.id").map { try Authority(row: $0) } }
    }

    public func authority(named name: String) throws -> Authority {
        try readOne { db in try Self.authority(db, named: name) }
    }

    static func authority(_ db: any SQLConnection, named name: String) throws -> Authority {
        guard let row = try db.row(authorityQuery + " WHERE a.name = ?", name) else {
            throw AuthorityError.notFound(name)
        }
        return try Authority(row: row)
    }

    /// Records a new CA, the certificate its parent issued it and the audit event, atomically.
    func insertAuthority(_ new: NewAuthority, now: Date) throws {
        try write { db in
            if try db.row("SELECT 1 FROM authorities WHERE name = ?", new.name) != nil {
                throw AuthorityError.alreadyExists(new.name)
            }
            let parentID = try new.parentName.map { try Self.authority(db, named: $0).id }
            let certificate = new.issued
            guard let id = try db.value(Int64.self, """
                INSERT INTO authorities (name, kind, parent_id, status, key_algorithm, key_file, key_encrypted,
                    certificate_der, csr_der, subject, not_before, not_after, created_at,
                    crl_validity_seconds, crl_url, ca_issuers_url, ocsp_url)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id
                """,
                new.name, new.kind.rawValue, parentID, new.status.rawValue, new.keyAlgorithm.rawValue,
                new.keyFile, new.keyEncrypted, new.issued?.der, new.csrDER,
                new.subject, certificate?.notValidBefore, certificate?.notValidAfter, now,
                new.crlValidity, new.crlURL, new.caIssuersURL, new.ocspURL) else {
                throw StoreError.database("the new CA's row id did not come back")
            }
            if let standby = new.standbyKey { try Self.useStandbyKey(db, name: standby) }
            if let issued = new.issued {
                let entry = CertificateEntry(
                    issued: issued, authority: new.parentName ?? new.name, thing: nil, subjectAuthority: new.name,
                    template: new.template, keyAlgorithm: new.keyAlgorithm, now: now)
                try Self.insertCertificate(db, entry, authorityID: parentID ?? id)
            }
            var details = ["kind": new.kind.rawValue, "key_algorithm": new.keyAlgorithm.rawValue, "status": new.status.rawValue]
            details["parent"] = new.parentName
            details["serial"] = new.issued?.serial.hex
            try appendEvent(db, action: "ca.create", subject: new.name, details: details, at: now)
        }
    }

    func setStatus(_ status: Authority.Status, of name: String) throws -> Authority {
        try write { db in
            let authority = try Self.authority(db, named: name)
            guard authority.status != .pending else { throw AuthorityError.pending(name) }
            guard authority.status != .revoked else { throw AuthorityError.revoked(name) }
            guard authority.status != status else { return authority }
            try db.execute("UPDATE authorities SET status = ? WHERE id = ?", status.rawValue, authority.id)
            try appendEvent(db, action: status == .active ? "ca.enable" : "ca.disable", subject: name)
            var updated = authority
            updated.status = status
            return updated
        }
    }

    /// Changes a CA's CRL validity and URLs (`iotca ca set`); nil leaves a value as it is.
    func updateSettings(of name: String, crlValidity: Int64?, crlURL: String??, caIssuersURL: String??,
                        ocspURL: String?? = .none, onPublish: String?? = .none) throws -> Authority {
        try write { db in
            var authority = try Self.authority(db, named: name)
            var details: [String: String] = [:]
            if let crlValidity {
                authority.crlValidity = crlValidity
                details["crl_validity_seconds"] = String(crlValidity)
            }
            // nil leaves a text setting; .some(nil) clears it.
            func apply(_ value: String??, _ field: WritableKeyPath<Authority, String?>, _ key: String) {
                guard let value else { return }
                authority[keyPath: field] = value
                details[key] = value ?? ""
            }
            apply(crlURL, \.crlURL, "crl_url")
            apply(caIssuersURL, \.caIssuersURL, "ca_issuers_url")
            apply(ocspURL, \.ocspURL, "ocsp_url")
            apply(onPublish, \.onPublish, "on_publish")
            try db.execute("""
                UPDATE authorities SET crl_validity_seconds = ?, crl_url = ?, ca_issuers_url = ?, ocsp_url = ?, on_publish = ? WHERE id = ?
                """, authority.crlValidity, authority.crlURL, authority.caIssuersURL, authority.ocspURL, authority.onPublish, authority.id)
            try appendEvent(db, action: "ca.set", subject: name, details: details)
            return authority
        }
    }

    /// Gives a pending external CA the certificate its outside issuer signed.
    func completeImport(of name: String, issued: IssuedCertificate, chain: [[UInt8]]) throws {
        try write { db in
            let authority = try Self.authority(db, named: name)
            guard authority.status == .pending else { throw AuthorityError.notPending(name) }
            let chainPEM = chain.map(IssuedCertificate.pem).joined()
            try db.execute("""
                UPDATE authorities SET status = 'active', certificate_der = ?, chain_pem = ?, subject = ?,
                    not_before = ?, not_after = ? WHERE id = ?
                """, issued.der, chainPEM, issued.subject.description, issued.notValidBefore, issued.notValidAfter, authority.id)
            try appendEvent(db, action: "ca.import", subject: name, details: [
                "serial": issued.serial.hex, "issuer": issued.issuer.description,
                "certificate_sha256": issued.fingerprints.certificateSHA256Hex,
            ])
        }
    }
}

extension Authority {
    /// An authority row; a value that does not parse is a `StoreError.corruptRow`.
    init(row: SQLRow) throws {
        let read = RowDecoder(row, table: "authorities", key: "name")
        let chainPEM: String = try read.optional("chain_pem") ?? ""
        self.init(
            id: try read.value("id"),
            name: try read.value("name"),
            kind: try read.parsed("kind", Kind.init(rawValue:)),
            parentName: try read.optional("parent_name"),
            status: try read.parsed("status", Status.init(rawValue:)),
            keyAlgorithm: try read.parsed("key_algorithm", KeyAlgorithm.init(rawValue:)),
            keyFile: try read.value("key_file"),
            keyEncrypted: try read.value("key_encrypted"),
            certificateDER: try read.optional("certificate_der"),
            csrDER: try read.optional("csr_der"),
            externalChainDER: PEMBundle.derDocuments(in: chainPEM, type: "CERTIFICATE"),
            subject: try read.value("subject"),
            notBefore: try read.optional("not_before"),
            notAfter: try read.optional("not_after"),
            createdAt: try read.value("created_at"),
            crlValidity: try read.value("crl_validity_seconds"),
            crlURL: try read.optional("crl_url"),
            caIssuersURL: try read.optional("ca_issuers_url"),
            ocspURL: try read.optional("ocsp_url"),
            onPublish: try read.optional("on_publish"))
    }
}
