import Foundation
import X509

/// `iotca passphrase change`: re-encrypts every CA key and standby key of the store under a new
/// passphrase (and the current KeyProtection), so that at every instant each key opens with the
/// old or the new passphrase, never neither:
///
/// 1. every key file is opened with the current passphrase (a wrong one changes nothing);
/// 2. a journal naming the new files is committed, then the new files are written under names of
///    their own, synced, read back, opened with the new passphrase and compared with the key
///    each certificate (or CSR, or standby pin) certifies;
/// 3. one transaction points every row at its new file and journals the old files;
/// 4. the old files are removed and the journal cleared.
///
/// Killed before 3: the rows still name the old files, which the old passphrase opens; a re-run
/// removes the unused new files first. Killed after 3: the new passphrase opens everything; a
/// re-run (or the next change) removes the old files. Key-writing operations (`ca create`,
/// `ca rotate-root`) wait for it (KeyFileLock).
public struct PassphraseChange {
    public let store: Store

    public init(store: Store) { self.store = store }

    /// Where a run can be stopped, for the crash tests (`kill -9` at each).
    public enum Step: String, Sendable, CaseIterable {
        case journaled, firstFileWritten, allFilesWritten, committed, oldFilesRemoved
    }

    public struct Report: Sendable, Encodable {
        /// Key files re-encrypted.
        public var keys = 0
        /// Files a killed earlier run left, removed first.
        public var leftoversRemoved = 0
        public var kdf = ""
    }

    struct Journal: Codable {
        var state: String  // writing | committed
        var files: [String]  // writing: the new files; committed: the old files
    }

    /// - Throws: `KeyError` (policy of the new passphrase; the current one does not open a key),
    ///   `SigningError.keyDoesNotMatchCertificate` (store), `StoreError`, `OutputError`; a
    ///   failure before the swap leaves the old passphrase in force.
    public func run(current: Passphrase?, new: Passphrase, protection: KeyProtection = .standard,
                    step: (Step) -> Void = { _ in }) throws -> Report {
        try PassphrasePolicy.check(new)
        return try KeyFileLock.withLock(store) {
            var report = Report()
            report.leftoversRemoved = try finishInterruptedRun()
            let keys = try openEveryKey(with: current)
            var replacements: [String: String] = [:]
            for file in keys.keys.sorted() {
                replacements[file] = StoreLayout.newKeyFile(for: Self.keyName(file))
            }
            try store.setSetting(Store.passphraseChangeJournal, try encode(Journal(state: "writing", files: Array(replacements.values))))
            step(.journaled)
            for (index, file) in keys.keys.sorted().enumerated() {
                guard let key = keys[file], let target = replacements[file] else { continue }
                try KeyFile.create(target, in: store.files, bytes: Array(try key.pem(encryptedWith: new, protection: protection).utf8))
                guard try KeyFile.open(target, in: store.files, passphrase: new).publicKey == key.publicKey else {
                    throw KeyError.encodingFailed(detail: "\(store.files.describe(target)) did not read back as the key it was written from")
                }
                if index == 0 { step(.firstFileWritten) }
            }
            step(.allFilesWritten)
            report.keys = replacements.count
            report.kdf = "PBKDF2-HMAC-SHA256, \(protection.iterations) iterations, AES-256-CBC"
            try store.swapKeyFiles(replacements, journal: try encode(Journal(state: "committed", files: Array(replacements.keys))),
                                   details: ["keys": String(replacements.count), "kdf": report.kdf])
            step(.committed)
            try removeUnreferenced(Array(replacements.keys))
            try store.deleteSetting(Store.passphraseChangeJournal)
            step(.oldFilesRemoved)
            return report
        }
    }

    /// Whether a change was interrupted (doctor reports it).
    public func isInterrupted() throws -> Bool { try store.setting(Store.passphraseChangeJournal) != nil }

    /// Removes the files an interrupted run journaled, where no row refers to them: the new
    /// files of a run killed before its commit, or the old files of one killed after.
    private func finishInterruptedRun() throws -> Int {
        guard let text = try store.setting(Store.passphraseChangeJournal),
              let journal = try? JSONDecoder().decode(Journal.self, from: Data(text.utf8)) else { return 0 }
        let removed = try removeUnreferenced(journal.files)
        try store.deleteSetting(Store.passphraseChangeJournal)
        return removed
    }

    @discardableResult
    private func removeUnreferenced(_ files: [String]) throws -> Int {
        let referenced = try store.referencedKeyFiles()
        return try store.files.remove(files.filter { !referenced.contains($0) && $0.hasPrefix("keys/") && !$0.contains("/../") })
    }

    /// Every key file the rows name, opened and checked against what certifies it.
    private func openEveryKey(with passphrase: Passphrase?) throws -> [String: PrivateKeyMaterial] {
        var keys: [String: PrivateKeyMaterial] = [:]
        func open(_ file: String, encrypted: Bool) throws -> PrivateKeyMaterial {
            if let key = keys[file] { return key }
            let key = try KeyFile.open(file, in: store.files, passphrase: encrypted ? passphrase : nil)
            keys[file] = key
            return key
        }
        // Keys in a token are not under the passphrase.
        for authority in try store.authorities() where !PKCS11URI.isURI(authority.keyFile) {
            let key = try open(authority.keyFile, encrypted: authority.keyEncrypted)
            if let certified = try authority.certifiedPublicKey(), certified != key.publicKey { throw SigningError.keyDoesNotMatchCertificate(authority: authority.name) }
        }
        for standby in try store.standbyKeys(includingUsed: true) where !PKCS11URI.isURI(standby.keyFile) {
            let key = try open(standby.keyFile, encrypted: try store.setting("keys_encrypted") != "false")
            guard try Fingerprints.spkiSHA256(of: key.publicKey).hexString == standby.spkiSHA256 else {
                throw KeyError.unsupportedKey(detail: "the standby key file \(standby.keyFile) does not hold the key its pin names")
            }
        }
        return keys
    }

    /// `keys/site.2.0123456789ab.key.pem` -> `site.2`; `keys/root.key.pem` -> `root`.
    static func keyName(_ file: String) -> String {
        var parts = URL(fileURLWithPath: file).lastPathComponent.components(separatedBy: ".")
        if parts.suffix(2) == ["key", "pem"] { parts.removeLast(2) }
        if let last = parts.last, parts.count > 1, last.count == 12, last.allSatisfy(\.isHexDigit) { parts.removeLast() }
        return parts.isEmpty ? "key" : parts.joined(separator: ".")
    }

    private func encode(_ journal: Journal) throws -> String {
        String(decoding: try JSONEncoder().encode(journal), as: UTF8.self)
    }
}
