import Foundation

extension AuthorityManager {
    /// Makes the next root's key now, encrypted beside the others, and certifies it at once
    /// (self-signed, recorded with the key): its pin is a backup pin (`iotca pins`) and its
    /// certificate a trust anchor firmware compiles in (`iotca trust-store`) long before
    /// `rotateRoot` makes that very certificate the root.
    @discardableResult
    public func createStandbyKey(_ algorithm: KeyAlgorithm, token: PKCS11URI? = nil, now time: Date? = nil) throws -> StandbyKey {
        let now = time ?? store.clock.now()
        try MatterPolicy.checkRootRotation(store)
        let name = try nextRootName()
        if let token {
            // In the same token as the root it will succeed, labelled with its future name.
            let (key, location) = try keyring.generateTokenKey(algorithm, in: PKCS11URI(token: token.token, modulePath: token.modulePath), label: name)
            let certificate = try certifyNextRoot(.token(key, location), name: name, now: now)
            let standby = StandbyKey(name: name, keyAlgorithm: algorithm, keyFile: location.description,
                                     spkiSHA256: try Fingerprints.spkiSHA256(of: key.publicKey).hexString, createdAt: now,
                                     certificateDER: certificate.der)
            try store.insertStandbyKey(standby)
            return standby
        }
        let key = try KeyGenerator().generate(algorithm)
        let certificate = try certifyNextRoot(.file(key), name: name, now: now)
        let keyFile = StoreLayout.newKeyFile(for: name)
        let standby = StandbyKey(name: name, keyAlgorithm: algorithm, keyFile: keyFile,
                                 spkiSHA256: try Fingerprints.spkiSHA256(of: key.publicKey).hexString, createdAt: now,
                                 certificateDER: certificate.der)
        try KeyFileLock.withLock(store) {
            try KeyFile.create(keyFile, in: store.files, bytes: try keyring.keyFileBytes(key))
            do {
                try store.insertStandbyKey(standby)
            } catch {
                try? store.files.remove([keyFile])
                throw error
            }
        }
        return standby
    }

    /// `iotca ca prepare-root`: certifies the standby keys a store made before next roots had
    /// certificates. Idempotent: a key already certified keeps its certificate (firmware may
    /// hold it), so a run killed half-way is finished by running it again.
    @discardableResult
    public func prepareNextRoots(now time: Date? = nil) throws -> [StandbyKey] {
        let now = time ?? store.clock.now()
        var prepared: [StandbyKey] = []
        for standby in try store.standbyKeys() {
            guard standby.certificateDER == nil else { prepared.append(standby); continue }
            let certificate = try certifyNextRoot(try openStandbyKey(standby), name: standby.name, now: now)
            prepared.append(try store.setStandbyCertificate(standby.name, der: certificate.der, at: now))
        }
        return prepared
    }

    /// `iotca ca rotate-root`: makes the oldest standby key the new root (named like the key,
    /// e.g. root-2) with the certificate made with it, byte for byte, so firmware built since
    /// then already trusts it; then makes the next standby key. A standby key from before
    /// next roots had certificates is certified now (with `validity` when given). Existing CAs
    /// keep their old root until they are replaced (`iotca ca create issuing-2 --parent root-2`).
    public func rotateRoot(validity: ValidityPeriod? = nil, now time: Date? = nil) throws -> (root: Authority, standby: StandbyKey) {
        let now = time ?? store.clock.now()
        try MatterPolicy.checkRootRotation(store)
        guard let standby = try store.standbyKeys().first else { throw AuthorityError.noStandbyKey }
        let key = try openStandbyKey(standby)
        let issued: IssuedCertificate
        if let der = standby.certificateDER {
            issued = try IssuedCertificate(der: der)
            guard validity == nil else {
                throw AuthorityError.nextRootAlreadyCertified(standby.name, notAfter: Timestamp.format(issued.notValidAfter))
            }
            guard issued.der == der, issued.fingerprints.spkiSHA256.hexString == standby.spkiSHA256 else {
                throw AuthorityError.nextRootUnusable(standby.name, reason: "its recorded certificate does not certify its key")
            }
            guard issued.notValidAfter > now else {
                throw AuthorityError.nextRootUnusable(standby.name, reason: "its certificate expired on \(Timestamp.format(issued.notValidAfter))")
            }
        } else {
            issued = try certifyNextRoot(key, name: standby.name, validity: validity, now: now)
        }
        let template = try caTemplate("root-ca")
        var token: PKCS11URI?
        if case .token(_, let location) = key { token = location }
        var new = Store.NewAuthority(
            name: standby.name, kind: .root, parentName: nil, status: .active, keyAlgorithm: key.algorithm,
            keyFile: standby.keyFile, keyEncrypted: token == nil ? try keyring.encryptsKeys() : false, issued: issued, template: template.name,
            csrDER: nil, subject: issued.subject.description)
        new.standbyKey = standby.name
        try applyStoreDefaults(&new)
        try store.insertAuthority(new, now: now)
        try publish(standby.name, der: issued.der)
        let next = try createStandbyKey(key.algorithm, token: token, now: now)
        return (try store.authority(named: standby.name), next)
    }

    /// The next root's self-signed certificate, from the root-ca template as `init` makes a root.
    private func certifyNextRoot(_ key: CAKey, name: String, validity: ValidityPeriod? = nil, now: Date) throws -> IssuedCertificate {
        let template = try caTemplate("root-ca")
        let policy = IssuancePolicy(template: template, thing: name, organization: try store.organization(), validity: validity)
        return try key.selfSign(try policy.decide(publicKey: key.publicKey, issuerName: name, issuer: nil, now: now))
    }

    /// A standby key opened from its file or token, checked against the pin recorded for it.
    private func openStandbyKey(_ standby: StandbyKey) throws -> CAKey {
        if PKCS11URI.isURI(standby.keyFile) {
            let location = try PKCS11URI(parsing: standby.keyFile)
            let opened = try keyring.openTokenKey(location, algorithm: standby.keyAlgorithm, authority: standby.name, expected: nil)
            guard try Fingerprints.spkiSHA256(of: opened.publicKey).hexString == standby.spkiSHA256 else {
                throw PKCS11Error.keyMismatch(authority: standby.name, location: location.withoutModule)
            }
            return .token(opened, location)
        }
        let key = try KeyFile.open(standby.keyFile, in: store.files, passphrase: try keyring.encryptsKeys() ? keyring.storePassphrase() : nil)
        guard try Fingerprints.spkiSHA256(of: key.publicKey).hexString == standby.spkiSHA256 else {
            throw KeyError.unsupportedKey(detail: "the standby key file \(standby.keyFile) does not hold the key its pin names")
        }
        return .file(key)
    }

    /// root-2, root-3, ...: the first name no CA or standby key has.
    func nextRootName() throws -> String {
        let taken = Set(try store.authorities().map(\.name)) .union(try store.allStandbyKeyNames())
        var index = 2
        while taken.contains("root-\(index)") { index += 1 }
        return "root-\(index)"
    }
}
