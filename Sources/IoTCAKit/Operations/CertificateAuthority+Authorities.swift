import Foundation

/// The front door's CA verbs: create, import, configure, enable and disable, move keys, rotate
/// the root, the verification certificate and the passphrase.
extension CertificateAuthority {
    // MARK: CAs

    /// `ca create NAME --parent CA`. - Throws: see `AuthorityManager.createSubordinate`.
    public func createCA(_ name: String, parent: String, keyType: KeyAlgorithm? = nil, validity: ValidityPeriod? = nil,
                         template: String = "subordinate-ca", token: PKCS11URI? = nil, attributes: [String: String] = [:]) throws -> Authority {
        try authorities.createSubordinate(name, parent: parent, keyType: keyType, validity: validity, template: template, token: token,
                                          attributes: attributes)
    }

    /// Where a CA's key lives and whether it can be reached now: a token's is opened (PIN from
    /// the keyring's source, when one is at hand without asking) and checked against the CA's
    /// certificate; a file's is checked by `doctor`.
    public func keyStatus(of name: String) throws -> KeyStatus {
        let authority = try store.authority(named: name)
        guard PKCS11URI.isURI(authority.keyFile) else {
            return KeyStatus(location: authority.keyFile, inToken: false, reachable: nil, problem: nil)
        }
        let uri = try PKCS11URI(parsing: authority.keyFile)
        let location = uri.withoutModule + " (module \(uri.modulePath ?? "-"))"
        guard keyring.tokenPIN?.availableWithoutAsking ?? false else {
            return KeyStatus(location: location, inToken: true, reachable: nil, problem: "not checked: no PIN given")
        }
        do {
            _ = try keyring.openTokenKey(uri, algorithm: authority.keyAlgorithm, authority: name,
                                         expected: try authority.certifiedPublicKey())
            return KeyStatus(location: location, inToken: true, reachable: true, problem: nil)
        } catch {
            return KeyStatus(location: location, inToken: true, reachable: false, problem: "\(error)")
        }
    }

    /// `ca create NAME --external`: the CA and its CSR (PEM).
    /// - Throws: see `AuthorityManager.createExternal`.
    public func createExternalCA(_ name: String, keyType: KeyAlgorithm = .ecP256,
                                 template: String = "subordinate-ca", token: PKCS11URI? = nil) throws -> (Authority, String) {
        try authorities.createExternal(name, keyType: keyType, template: template, token: token)
    }

    /// `ca import`. - Throws: see `AuthorityManager.importCertificate`.
    public func importCA(_ name: String, certificate: [UInt8], chain: [UInt8]?) async throws -> Authority {
        try await authorities.importCertificate(name, certificate: certificate, chain: chain)
    }

    /// `ca set`: nil leaves a setting, an empty URL removes it.
    /// - Throws: `AuthorityError.notFound`, `PolicyError` (URLs), `StoreError`.
    public func configureCA(_ name: String, crlValidity: ValidityPeriod? = nil, crlURL: String? = nil,
                            caIssuersURL: String? = nil, ocspURL: String? = nil, onPublish: String? = nil) throws -> Authority {
        try authorities.updateSettings(of: name, crlValidity: crlValidity, crlURL: crlURL, caIssuersURL: caIssuersURL, ocspURL: ocspURL,
                                       onPublish: onPublish)
    }

    /// `ca create-service`: the service's own CAs for a store made before `init` made them.
    /// - Throws: `AuthorityError.alreadyExists`, `KeyError`.
    public func createServiceHierarchy() throws -> (root: Authority, service: Authority) {
        let root = try store.authority(named: StoreInitializer.rootName)
        let token = PKCS11URI.isURI(root.keyFile) ? (try? PKCS11URI(parsing: root.keyFile)).map { PKCS11URI(token: $0.token, modulePath: $0.modulePath) } : nil
        return try authorities.createServiceHierarchy(keyType: root.keyAlgorithm, token: token)
    }

    /// `ca move-key`: a CA's file key into a token. - Throws: see `AuthorityManager.moveKey`.
    public func moveKey(of name: String, to token: PKCS11URI,
                        step: (KeyMoveStep) -> Void = { _ in }) throws -> (authority: Authority, location: PKCS11URI) {
        try authorities.moveKey(of: name, to: token, step: step)
    }

    /// `ca enable` / `ca disable`. - Throws: `AuthorityError` (not found, pending, revoked).
    public func setStatus(_ status: Authority.Status, of name: String) throws -> Authority {
        try authorities.setStatus(status, of: name)
    }

    /// `ca rotate-root`. - Throws: `AuthorityError.noStandbyKey`, `KeyError`, `StoreError`.
    public func rotateRoot(validity: ValidityPeriod? = nil) throws -> (root: Authority, standby: StandbyKey) {
        try authorities.rotateRoot(validity: validity)
    }

    /// `ca prepare-root`: certifies the next root of a store made before that was done in
    /// advance. - Throws: `KeyError`, `PKCS11Error`, `StoreError`.
    public func prepareNextRoots() throws -> [StandbyKey] {
        try authorities.prepareNextRoots()
    }

    /// `trust-store`: the anchors firmware compiles in (see `TrustStore.anchors`).
    public func trustAnchors(extra: [String] = []) throws -> [TrustAnchor] {
        try TrustStore.anchors(of: store, extra: extra, now: store.clock.now())
    }

    /// `ca verification-cert`. - Throws: `PolicyError` (the code), `AuthorityError`, `KeyError`.
    public func verificationCertificate(ca name: String, registrationCode: String,
                                        validity: ValidityPeriod? = nil) throws -> IssuedCertificate {
        try authorities.verificationCertificate(ca: name, registrationCode: registrationCode, validity: validity)
    }

    /// `passphrase change`. - Throws: see `PassphraseChange.run`.
    public func changePassphrase(current: Passphrase?, new: Passphrase,
                                 step: (PassphraseChange.Step) -> Void = { _ in }) throws -> PassphraseChange.Report {
        try PassphraseChange(store: store).run(current: current, new: new, step: step)
    }
}
