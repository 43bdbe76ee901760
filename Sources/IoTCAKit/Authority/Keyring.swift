import Foundation
import X509
import Synchronization

/// Opens CA keys from the store's key files, asking for the passphrase at most once per
/// process, and keeps each CA's signer for the rest of the process (a batch signs thousands
/// of certificates with one decryption). Safe to share between threads: the service's
/// workers all sign with the keys it unlocked at start.
public final class Keyring: Sendable {
    public let store: Store
    private let source: PassphraseSource
    private struct State {
        var passphrase: Passphrase?
        var signers: [String: Signer] = [:]
        var keyProtection: KeyProtection = .standard
        var publishHook: PublishHook.Runner?
        var tokenPIN: PassphraseSource?
    }
    private let state = Mutex(State())
    /// Held while the passphrase is asked for, so two threads never prompt at once.
    private let asking = Mutex(())

    public init(store: Store, passphrase source: PassphraseSource) {
        self.store = store
        self.source = source
    }

    /// Whether this store keeps CA keys encrypted (chosen at `init`).
    public func encryptsKeys() throws -> Bool {
        try store.setting("keys_encrypted") != "false"
    }

    /// How new key files are encrypted: `.standard` except in test fixtures.
    public var keyProtection: KeyProtection {
        get { state.withLock { $0.keyProtection } }
        set { state.withLock { $0.keyProtection = newValue } }
    }

    /// How a CA's on-publish command is run (set by the front end); nil runs none and reports it.
    public var publishHook: PublishHook.Runner? {
        get { state.withLock { $0.publishHook } }
        set { state.withLock { $0.publishHook = newValue } }
    }

    /// Where the user PIN of PKCS#11 tokens comes from (set by the front end); nil has none.
    public var tokenPIN: PassphraseSource? {
        get { state.withLock { $0.tokenPIN } }
        set { state.withLock { $0.tokenPIN = newValue } }
    }

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
        if let known = state.withLock({ $0.passphrase }) { return known }
        return try asking.withLock { _ throws(KeyError) -> Passphrase in
            if let known = state.withLock({ $0.passphrase }) { return known }
            let resolved = try source.passphrase()
            state.withLock { $0.passphrase = resolved }
            return resolved
        }
    }

    /// The store passphrase when one is at hand (file, environment, terminal), without failing
    /// when none is: `doctor` checks what it can.
    public func passphraseIfAvailable() throws(KeyError) -> Passphrase? {
        if let known = state.withLock({ $0.passphrase }) { return known }
        return try asking.withLock { _ throws(KeyError) -> Passphrase? in
            if let known = state.withLock({ $0.passphrase }) { return known }
            let resolved = try source.passphraseIfAvailable()
            state.withLock { $0.passphrase = resolved }
            return resolved
        }
    }

    /// The signer of a CA. For issuance (the default) the CA must be active and unexpired; a
    /// disabled or revoked CA still signs its CRLs.
    public func signer(for authority: Authority, toIssue: Bool = true) throws -> Signer {
        switch try opening(authority, toIssue: toIssue) {
        case .opened(let signer): return signer
        case .keyFile(let decrypt): return try decrypt()
        }
    }

    /// A CA's signer in two steps, for a caller that decrypts the key on another thread while
    /// it holds the store (a CRL's publication): everything that touches the store, a token or
    /// the terminal happens here; `keyFile`'s closure only decrypts (PBKDF2) and caches.
    enum Opening {
        case opened(Signer)
        case keyFile(@Sendable () throws -> Signer)
    }

    func opening(_ authority: Authority, toIssue: Bool) throws -> Opening {
        // A pending CA has no certificate to sign with; a disabled or revoked one still signs CRLs.
        if toIssue || authority.status == .pending, let refusal = authority.status.refusalToIssue(authority.name) { throw refusal }
        if toIssue, let notAfter = authority.notAfter, notAfter <= store.clock.now() {
            throw AuthorityError.expired(authority.name, notAfter: Store.timestamp(notAfter))
        }
        // Cached by name and certificate: a CA whose certificate changed (rotation, import) is
        // opened again.
        if let cached = state.withLock({ $0.signers[authority.name] }), cached.certificateDER == authority.certificateDER {
            return .opened(cached)
        }
        if PKCS11URI.isURI(authority.keyFile) {
            let certificate = try authority.certificate()
            let key = try openTokenKey(try PKCS11URI(parsing: authority.keyFile), algorithm: authority.keyAlgorithm,
                                       authority: authority.name, expected: certificate.publicKey)
            let signer = try Signer(authorityName: authority.name, certificate: certificate, signingKey: Certificate.PrivateKey(key),
                                    publicKey: key.publicKey, algorithm: authority.keyAlgorithm)
            state.withLock { $0.signers[authority.name] = signer }
            return .opened(signer)
        }
        let contents = try KeyFile.read(authority.keyFile, in: store.files)
        let passphrase = authority.keyEncrypted ? try storePassphrase() : nil
        let certificate = try authority.certificate()
        return .keyFile { [self] in
            let signer = try Signer(authorityName: authority.name, certificate: certificate, key: contents.open(passphrase: passphrase))
            state.withLock { $0.signers[authority.name] = signer }
            return signer
        }
    }
}
