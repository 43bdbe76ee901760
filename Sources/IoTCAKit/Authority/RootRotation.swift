import Foundation

extension AuthorityManager {
    /// Makes the next root's key now, encrypted beside the others, without certifying it. Its
    /// pin is a backup pin (`iotca pins`) until `rotateRoot` makes it a root.
    @discardableResult
    public func createStandbyKey(_ algorithm: KeyAlgorithm, token: PKCS11URI? = nil, now time: Date? = nil) throws -> StandbyKey {
        let now = time ?? store.clock.now()
        let name = try nextRootName()
        if let token {
            // In the same token as the root it will succeed, labelled with its future name.
            let (key, location) = try keyring.generateTokenKey(algorithm, in: PKCS11URI(token: token.token, modulePath: token.modulePath), label: name)
            let standby = StandbyKey(name: name, keyAlgorithm: algorithm, keyFile: location.description,
                                     spkiSHA256: try Fingerprints.spkiSHA256(of: key.publicKey).hexString, createdAt: now)
            try store.insertStandbyKey(standby)
            return standby
        }
        let key = try KeyGenerator().generate(algorithm)
        let keyFile = StoreLayout.newKeyFile(for: name)
        let standby = StandbyKey(name: name, keyAlgorithm: algorithm, keyFile: keyFile,
                                 spkiSHA256: try Fingerprints.spkiSHA256(of: key.publicKey).hexString, createdAt: now)
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

    /// `iotca ca rotate-root`: certifies the oldest standby key as a new self-signed root (named
    /// like the key, e.g. root-2) and makes the next standby key. Devices that pinned the
    /// standby key's SPKI trust the new root at once. Existing CAs keep their old root until
    /// they are replaced (`iotca ca create issuing-2 --parent root-2`).
    public func rotateRoot(validity: ValidityPeriod? = nil, now time: Date? = nil) throws -> (root: Authority, standby: StandbyKey) {
        let now = time ?? store.clock.now()
        guard let standby = try store.standbyKeys().first else { throw AuthorityError.noStandbyKey }
        let key: CAKey
        var token: PKCS11URI?
        if PKCS11URI.isURI(standby.keyFile) {
            let location = try PKCS11URI(parsing: standby.keyFile)
            let opened = try keyring.openTokenKey(location, algorithm: standby.keyAlgorithm, authority: standby.name, expected: nil)
            guard try Fingerprints.spkiSHA256(of: opened.publicKey).hexString == standby.spkiSHA256 else {
                throw PKCS11Error.keyMismatch(authority: standby.name, location: location.withoutModule)
            }
            key = .token(opened, location)
            token = location
        } else {
            key = .file(try KeyFile.open(standby.keyFile, in: store.files, passphrase: try keyring.encryptsKeys() ? keyring.storePassphrase() : nil))
        }
        let template = try caTemplate("root-ca")
        let policy = IssuancePolicy(template: template, thing: standby.name, organization: try store.organization(), validity: validity)
        let spec = try policy.decide(publicKey: key.publicKey, issuerName: standby.name, issuer: nil, now: now)
        let issued = try key.selfSign(spec)
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

    /// root-2, root-3, ...: the first name no CA or standby key has.
    func nextRootName() throws -> String {
        let taken = Set(try store.authorities().map(\.name)) .union(try store.allStandbyKeyNames())
        var index = 2
        while taken.contains("root-\(index)") { index += 1 }
        return "root-\(index)"
    }
}
