import Foundation

/// Opens CA keys from the store's key files, asking for the passphrase at most once per
/// process, and keeps each CA's signer for the rest of the process (a batch signs thousands
/// of certificates with one decryption).
public final class Keyring {
    public let store: Store
    private let source: PassphraseSource
    private var passphrase: Passphrase?
    private var signers: [String: Signer] = [:]

    public init(store: Store, passphrase source: PassphraseSource) {
        self.store = store
        self.source = source
    }

    /// Whether this store keeps CA keys encrypted (chosen at `init`).
    public func encryptsKeys() throws -> Bool {
        try store.setting("keys_encrypted") != "false"
    }

    /// How new key files are encrypted: `.standard` except in test fixtures.
    public var keyProtection: KeyProtection = .standard

    /// The passphrase new CA keys are encrypted with: the store's, or nil for an insecure store.
    /// A store passphrase from before the policy must be changed before it protects a new key.
    func passphraseForNewKeys() throws -> Passphrase? {
        guard try encryptsKeys() else { return nil }
        let passphrase = try storePassphrase()
        do {
            try PassphrasePolicy.check(passphrase)
        } catch .passphraseTooShort(let characters, let minimum) {
            throw KeyError.storePassphraseTooShort(characters: characters, minimum: minimum)
        }
        return passphrase
    }

    /// A new CA key as its key file's bytes: encrypted under the store passphrase with this
    /// keyring's protection, or plain PKCS#8 for an insecure store.
    func keyFileBytes(_ key: PrivateKeyMaterial) throws -> [UInt8] {
        Array(try key.pem(encryptedWith: try passphraseForNewKeys(), protection: keyProtection).utf8)
    }

    func storePassphrase() throws(KeyError) -> Passphrase {
        if let passphrase { return passphrase }
        let resolved = try source.passphrase()
        passphrase = resolved
        return resolved
    }

    /// The store passphrase when one is at hand (file, environment, terminal), without failing
    /// when none is: `doctor` checks what it can.
    public func passphraseIfAvailable() throws(KeyError) -> Passphrase? {
        if let passphrase { return passphrase }
        let resolved = try source.passphraseIfAvailable()
        passphrase = resolved
        return resolved
    }

    /// The signer of a CA. For issuance (the default) the CA must be active and unexpired; a
    /// disabled or revoked CA still signs its CRLs.
    public func signer(for authority: Authority, toIssue: Bool = true) throws -> Signer {
        switch authority.status {
        case .active: break
        case .pending: throw AuthorityError.pending(authority.name)
        case .disabled: if toIssue { throw AuthorityError.disabled(authority.name) }
        case .revoked: if toIssue { throw AuthorityError.revoked(authority.name) }
        }
        if toIssue, let notAfter = authority.notAfter, notAfter <= store.clock.now() {
            throw AuthorityError.expired(authority.name, notAfter: Store.timestamp(notAfter))
        }
        if let cached = signers[authority.name] { return cached }
        let key = try KeyFile.open(authority.keyFile, in: store.layout, passphrase: authority.keyEncrypted ? storePassphrase() : nil)
        let signer = try Signer(authorityName: authority.name, certificate: authority.certificate(), key: key)
        signers[authority.name] = signer
        return signer
    }
}
