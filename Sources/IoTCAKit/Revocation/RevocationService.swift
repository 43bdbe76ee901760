import Crypto
import Foundation
import SwiftASN1

/// The certificate is revoked in the store, but its CRL could not be published: the next
/// `iotca crl publish` includes it.
public struct CRLNotPublished: IoTCAError {
    public let serials: [String]
    public let cause: String
    public let errorKind: ErrorKind
    public var kind: ErrorKind { errorKind }
    public var description: String {
        "revoked \(serials.joined(separator: ", ")), but the CRL was not published (\(cause)): the next CRL publication includes it"
    }
}

/// Revokes certificates and publishes CRLs. A revocation is committed before any CRL is made,
/// so a crash in between loses nothing: the next publication includes it.
public struct RevocationService {
    public let keyring: Keyring
    public var store: Store { keyring.store }

    public init(keyring: Keyring) {
        self.keyring = keyring
    }

    public struct Outcome: Sendable {
        public let revoked: [CertificateEntry]
        public let published: [CRLRecord]

        public init(revoked: [CertificateEntry], published: [CRLRecord]) {
            self.revoked = revoked
            self.published = published
        }
    }

    /// Revokes one certificate by serial or every active certificate of a thing, then
    /// publishes the issuers' CRLs (unless `publish` is false).
    /// - Throws: `CertificateNotFound` (not found), `RevocationError` (already revoked: conflict;
    ///   no active certificate, ambiguous serial, a root: policy), `KeyError` (passphrase) before
    ///   anything is written; `CRLNotPublished` when the revocation is recorded but its CRL is not.
    public func revoke(_ target: RevocationTarget, reason: RevocationReason = .unspecified,
                       invalidityDate: Date? = nil, publish: Bool = true) throws -> Outcome {
        // Open the issuers' keys first, so a missing or wrong passphrase changes nothing.
        let issuers: [String]
        switch target {
        case .serial(let serial, let authority):
            issuers = try store.certificates(serial: serial).map(\.authority).filter { authority == nil || $0 == authority }
        case .thing(let thing):
            issuers = try store.certificates(CertificateFilter(thing: thing, status: .active)).map(\.authority)
        }
        if publish {
            for name in Set(issuers) { _ = try keyring.signer(for: try store.authority(named: name), toIssue: false) }
        }
        let revoked = try store.revoke(target, reason: reason, invalidityDate: invalidityDate)
        guard publish else { return Outcome(revoked: revoked, published: []) }
        return Outcome(revoked: revoked, published: try publishIssuers(of: revoked))
    }

    /// Publishes the CRLs of the CAs that issued `revoked`, recorded already: a failure to
    /// publish is `CRLNotPublished` (the revocations stand, the CRL is due), a failed on-publish
    /// command `OnPublishFailed`.
    private func publishIssuers(of revoked: [CertificateEntry]) throws -> [CRLRecord] {
        do {
            return try publishEach(Set(revoked.map(\.authority)).sorted(), revoked: revoked)
        } catch let failed as OnPublishFailed {
            throw failed
        } catch let error as any IoTCAError {
            throw CRLNotPublished(serials: revoked.map(\.serial.hex), cause: error.description, errorKind: error.kind)
        }
    }

    /// Retires `thing`'s replaced certificates (reason superseded) and publishes their issuers'
    /// CRLs: the renewal's last step, once the new certificate's bundle exists.
    /// - Throws: `StoreError`; `CRLNotPublished` when the revocations are recorded but a CRL is not.
    public func supersede(thing: String, serials: [SerialNumber]) throws -> [CertificateEntry] {
        let revoked = try store.supersede(thing: thing, serials: serials)
        _ = try publishIssuers(of: revoked)
        return revoked
    }

    /// Revokes, as superseded, the certificates devices replaced whose grace period is over
    /// (EST re-enrolment schedules them), and publishes the CRLs that changed. Run by `crl
    /// publish --if-due` (cron), by `iotca serve` every minute, and at each re-enrolment.
    /// - Throws: `StoreError`; `CRLNotPublished` when the revocations are recorded but a CRL is not.
    @discardableResult
    public func supersedeDue() throws -> [CertificateEntry] {
        let revoked = try store.supersedeDue(now: store.clock.now())
        _ = try publishIssuers(of: revoked)
        return revoked
    }

    /// Generates one CA's CRL and writes `public/NAME.crl` (DER) and `public/NAME.crl.pem`.
    /// With `ifDue`, nil when the current CRL is still fresh; it also puts back the newest
    /// recorded CRL if a crash left older files (cron repairs what a kill interrupted).
    /// - Throws: `AuthorityError` (not found, pending), `KeyError` (passphrase), `StoreError`,
    ///   `SigningError.releaseCheckFailed` (internal: nothing recorded), `OutputError` (files).
    @discardableResult
    public func publish(_ name: String, ifDue: Bool = false) throws -> CRLRecord? {
        let authority = try store.authority(named: name)
        removeAbandonedStaging(of: name)
        let unlocking = try unlockBesideTheDraft(authority)
        var builder = CRLBuilder()
        let drafted: CRLDraft?
        do {
            if ifDue { try restoreFiles(of: name) }
            drafted = try store.draftCRL(authority: name, ifDue: ifDue, into: &builder, beforeCommit: { _ = try unlocking() })
        } catch {
            _ = try unlocking()  // a key that does not open is reported first, as when it opened first
            throw error
        }
        // Nothing due: a key that does not open is still reported.
        let signer = try unlocking()
        guard let draft = drafted else { return nil }
        // The Signer signs outside the store's write transaction; the store records the result.
        let der = try builder.finish(
            issuer: signer.certificate, algorithm: signer.keyAlgorithm, thisUpdate: draft.thisUpdate, nextUpdate: draft.nextUpdate,
            number: draft.number, sign: { tbs in try signer.signature(forCRL: tbs) })
        // The release check reads the CRL on another core while the store writes it; the
        // transaction commits only once the check has passed.
        let check = Background { [der] in
            try CRLReleaseCheck.check(der, issuer: signer.certificate, algorithm: signer.keyAlgorithm, number: draft.number,
                                      thisUpdate: draft.thisUpdate, nextUpdate: draft.nextUpdate, entries: draft.entries)
        }
        // And the files are written under temporary names meanwhile, put in place once recorded.
        let files = crlFiles(of: name)
        let staging = Background { [der] in try Self.stage(der, as: files) }
        let record: CRLRecord
        do {
            record = try store.recordCRL(draft, der: der, beforeCommit: { try check.value() }) { head in
                try signer.signature(forCRL: AuditCheckpoint.message(head: head))
            }
        } catch {
            (try? staging.value())?.forEach { $0.discard() }
            try check.value()  // a failed check is the cause worth reporting, whatever the store said
            throw error
        }
        try putInPlace(try staging.value(), of: name, record: record, der: der)
        if let command = authority.onPublish {
            let allowList = OnPublishAllowList(nodeFolder: store.layout.root)
            let failure: String?
            if store.isShared && !allowList.allows(command) {
                failure = "this node runs only the commands listed in \(allowList.file.path), and this one is not: add it there to run it here"
            } else if let hook = keyring.publishHook {
                failure = hook(command, name, files.der, files.pem)
            } else {
                failure = "this program was not given a way to run commands"
            }
            if let failure {
                throw OnPublishFailed(failures: [.init(authority: name, number: record.number, reason: failure)], revoked: [])
            }
        }
        return record
    }

    /// The CA's signer, its key file decrypted on another thread while the store reads a large
    /// CRL's entries (the PBKDF2 is a fixed cost of every publication). The file is read and the
    /// passphrase taken here (the store may be a database whose connections the draft holds; the
    /// passphrase may be asked for on a terminal). The draft waits for the key inside its write
    /// transaction, so a CA whose last CRL was small, or a cached or token key, opens first.
    private func unlockBesideTheDraft(_ authority: Authority) throws -> () throws -> Signer {
        switch try keyring.opening(authority, toIssue: false) {
        case .opened(let signer):
            return { signer }
        case .keyFile(let decrypt):
            if let last = try store.latestCRL(of: authority.name), last.entries < Self.entriesWorthOverlapping {
                let signer = try decrypt()
                return { signer }
            }
            let unlocking = Background { try decrypt() }
            return { try unlocking.value() }
        }
    }

    /// Below this, reading the entries takes less than decrypting the key.
    static let entriesWorthOverlapping = 50_000

    /// Publishes each CA's CRL in turn; a failed on-publish command does not stop the others,
    /// and is reported (with `revoked`) once all are published.
    func publishEach(_ names: [String], ifDue: Bool = false, revoked: [CertificateEntry] = []) throws -> [CRLRecord] {
        var published: [CRLRecord] = [], failures: [OnPublishFailed.Failure] = []
        for name in names {
            do {
                if let record = try publish(name, ifDue: ifDue) { published.append(record) }
            } catch let failed as OnPublishFailed {
                failures += failed.failures
            }
        }
        guard failures.isEmpty else { throw OnPublishFailed(failures: failures, revoked: revoked.map(\.serial.hex)) }
        return published
    }

    /// Writes the files under a lock file, and only if this CRL is still the newest recorded:
    /// two publishers that committed N and N+1 can never leave N on disk.
    func writeFiles(of name: String, record: CRLRecord, der: [UInt8]) throws {
        try putInPlace(try Self.stage(der, as: crlFiles(of: name)), of: name, record: record, der: der)
    }

    /// The DER and PEM files written and flushed beside their places (the PEM, base64 of tens
    /// of megabytes, on another thread).
    private static func stage(_ der: [UInt8], as files: (der: URL, pem: URL)) throws -> [StagedFile] {
        let pem = Background { [der] in try AtomicFile.stagePEM(der, type: "X509 CRL", for: files.pem) }
        let staged: StagedFile
        do {
            staged = try AtomicFile.stage(der, for: files.der)
        } catch {
            (try? pem.value())?.discard()
            throw error
        }
        do {
            return [staged, try pem.value()]
        } catch {
            staged.discard()
            throw error
        }
    }

    /// Renames staged files into place under the lock file, if this CRL is still the newest
    /// recorded; discards them otherwise.
    private func putInPlace(_ staged: [StagedFile], of name: String, record: CRLRecord, der: [UInt8]) throws {
        var committed = 0
        defer { staged.dropFirst(committed).forEach { $0.discard() } }
        let files = crlFiles(of: name)
        try LockFile.withExclusive(files.der.appendingPathExtension("lock"), mode: 0o644,
                                   failure: { OutputError.writeFailed(path: $0, detail: $1) }) {
            guard try store.latestCRL(of: name)?.number == record.number else { return }
            for file in staged {
                if file.isMissing {
                    // Removed as abandoned while this publisher waited an hour for the store: written again.
                    if file.target == files.pem {
                        try AtomicFile.writePEM(der, type: "X509 CRL", to: files.pem)
                    } else {
                        try AtomicFile.write(der, to: file.target)
                    }
                } else {
                    try file.commit()
                }
                committed += 1
            }
            try AtomicFile.syncFolder(files.der.deletingLastPathComponent())
        }
    }

    /// Removes the staged files of this CA's CRL that a killed publisher left (a million-entry
    /// CRL stages about 120 MB): named as `stage` names them and untouched for an hour (file
    /// times are the system's, so this compares with the system's clock, not the store's).
    func removeAbandonedStaging(of name: String, age: TimeInterval = 3_600) {
        let folder = store.layout.publicFolder
        let now = Date().timeIntervalSince1970
        let prefixes = [".\(name).crl.tmp-", ".\(name).crl.pem.tmp-"]
        for file in (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [] {
            guard let prefix = prefixes.first(where: { file.hasPrefix($0) }) else { continue }
            guard Hex.decode(file.utf8.dropFirst(prefix.utf8.count))?.count == 6 else { continue }  // AtomicFile's 12-digit suffix
            var status = stat()
            let path = folder.path + "/" + file
            guard lstat(path, &status) == 0, now - TimeInterval(status.st_mtim.tv_sec) > age else { continue }
            unlink(path)
        }
    }

    /// Puts the newest recorded CRL back on disk when the files are missing or older.
    func restoreFiles(of name: String) throws {
        guard let (record, der) = try store.latestCRLDER(of: name) else { return }
        let onDisk = FileManager.default.contents(atPath: crlFiles(of: name).der.path).map { Array(SHA256.hash(data: $0)).hexString }
        if onDisk != record.sha256 { try writeFiles(of: name, record: record, der: der) }
    }

    /// Every CA that has a certificate (pending ones have nothing to sign with yet).
    public func publishAll(ifDue: Bool = false) throws -> [CRLRecord] {
        try publishEach(store.authorities().filter { $0.status != .pending }.map(\.name), ifDue: ifDue)
    }

    public func crlFiles(of name: String) -> (der: URL, pem: URL) {
        (store.layout.publicFolder.appendingPathComponent("\(name).crl"),
         store.layout.publicFolder.appendingPathComponent("\(name).crl.pem"))
    }
}
