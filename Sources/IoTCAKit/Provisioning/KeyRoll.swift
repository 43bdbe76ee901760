import Foundation

/// Which key an issuance certifies and which it prepares next, for templates with `nextKey`
/// (a server whose clients pin its key): a renewal rolls to the key prepared last time, so
/// clients that compiled in its pin as a backup keep connecting, and prepares the one after.
enum KeyRoll {
    struct Choice {
        /// nil: generate one (or the CSR's).
        var key: PrivateKeyMaterial?
        /// The key to prepare as the successor; nil when none is prepared.
        var next: PrivateKeyMaterial?
    }

    static func choose(_ plan: Provisioner.Plan, format: BundleFormat, bundleParent: URL, store: Store,
                       generator: KeyGenerator) throws -> Choice {
        let request = plan.request
        guard request.csr == nil, request.provenKey == nil else { return Choice() }
        let prepares = plan.template.nextKey == true && format == .dir
        func freshNext() throws -> PrivateKeyMaterial? { prepares ? try generator.generate(plan.template.keyType) : nil }
        guard request.renew, request.renewalKey != .new else { return Choice(key: nil, next: try freshNext()) }
        let recordedNext = try store.nextKeyPins(thing: request.thing).last?.spki
        guard format == .dir, let folder = Bundle.location(of: request.thing, format: .dir, in: bundleParent) else {
            if request.renewalKey == .keep || (plan.template.nextKey == true && recordedNext != nil) {
                throw KeyRollError.needsBundleFolder(format: format.rawValue)
            }
            return Choice()
        }
        let prepared = folder.appendingPathComponent("next-key.pem")
        if request.renewalKey == .keep {
            let active = try store.certificates(CertificateFilter(thing: request.thing, status: .active)).map(\.spkiSHA256)
            let key = try load(folder.appendingPathComponent("key.pem"), purpose: "the key being kept", expected: active)
            // The prepared successor stays the same: clients' backup pins still hold.
            return Choice(key: key, next: prepares ? try loadIfPresent(prepared, expected: recordedNext) ?? freshNext() : nil)
        }
        guard let recordedNext else { return Choice(key: nil, next: try freshNext()) }
        let key = try load(prepared, purpose: "the prepared next key whose pin clients may hold as a backup", expected: [recordedNext])
        return Choice(key: key, next: try freshNext())
    }

    /// The key in `file`, checked to be one of `expected` (hex SPKI SHA-256).
    private static func load(_ file: URL, purpose: String, expected: [String]) throws -> PrivateKeyMaterial {
        guard let pem = try? String(contentsOf: file, encoding: .utf8) else {
            throw KeyRollError.keyFileMissing(path: file.path, purpose: purpose)
        }
        let key = try PrivateKeyMaterial(pem: pem, passphrase: nil, path: file.path)
        let pin = try Fingerprints.spkiSHA256(of: key.publicKey).hexString
        guard expected.contains(pin) else { throw KeyRollError.keyMismatch(path: file.path, expected: expected.joined(separator: " or ")) }
        return key
    }

    private static func loadIfPresent(_ file: URL, expected: String?) throws -> PrivateKeyMaterial? {
        guard FileManager.default.fileExists(atPath: file.path), let expected else { return nil }
        return try load(file, purpose: "the prepared next key", expected: [expected])
    }
}
