import COpenSSL
import Foundation

/// How a bundle is handed out (`iotca issue --format`).
public enum BundleFormat: String, CaseIterable, Sendable {
    /// The folder OUT/THING/ with cert.pem, key.pem, chain.pem, root.pem, manifest.json.
    case dir
    /// OUT/THING.pem: key, certificate and chain in one file.
    case pem
    /// OUT/THING.p12: PKCS#12 with key, certificate, chain and root, passphrase-protected.
    case p12
    /// OUT/THING.zip: the dir bundle's files.
    case zip
    /// One JSON object on stdout; nothing on disk.
    case json
}

/// What one thing receives: its certificate, its private key unless it sent a CSR, the chain
/// to the root, the root itself and a manifest.
public struct Bundle: Sendable {
    public var thing: String
    public var certificateDER: [UInt8]
    /// Handed out once and never stored by the CA.
    public var privateKey: PrivateKeyMaterial?
    /// The issuing CA up to but excluding the root, leaf-most first.
    public let chain: CertificateChain
    public var manifest: BundleManifest

    public init(thing: String, certificateDER: [UInt8], privateKey: PrivateKeyMaterial?, chain: CertificateChain,
                manifest: BundleManifest) {
        self.thing = thing
        self.certificateDER = certificateDER
        self.privateKey = privateKey
        self.chain = chain
        self.manifest = manifest
    }

    public var chainDER: [[UInt8]] { chain.intermediates }
    public var rootDER: [UInt8] { chain.root }
    public var certificatePEM: String { IssuedCertificate.pem(certificateDER) }
    public var privateKeyPEM: String? { privateKey?.pkcs8PEM }
    public var chainPEM: String { chain.intermediatesPEM }
    public var rootPEM: String { chain.rootPEM }

    /// Where `format` puts the bundle under `parent`; nil for `json`.
    public static func location(of thing: String, format: BundleFormat, in parent: URL) -> URL? {
        switch format {
        case .dir: return parent.appendingPathComponent(thing, isDirectory: true)
        case .json: return nil
        case .pem, .p12, .zip: return parent.appendingPathComponent("\(thing).\(format.rawValue)")
        }
    }

    /// Writes the bundle in `format` (p12 needs `passphrase`); returns where, nil for json.
    public func write(_ format: BundleFormat, into parent: URL, replace: Bool, passphrase: Passphrase? = nil,
                      durable: Bool = true) throws(OutputError) -> URL? {
        guard let target = Self.location(of: thing, format: format, in: parent) else { return nil }
        if format == .dir { return try write(into: parent, replace: replace, durable: durable) }
        if !replace && FileManager.default.fileExists(atPath: target.path) { throw .exists(path: target.path) }
        do {
            try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true)
        } catch {
            throw .writeFailed(path: parent.path, detail: (error as NSError).localizedDescription)
        }
        let secretMode: mode_t = privateKey == nil ? 0o644 : 0o600
        switch format {
        case .pem:
            let text = (privateKeyPEM ?? "") + certificatePEM + chainPEM
            try AtomicFile.write(text, to: target, mode: secretMode, durable: durable)
        case .p12:
            guard let privateKey else { throw .writeFailed(path: target.path, detail: "a PKCS#12 bundle needs the private key, which stays on the device with --csr") }
            guard let passphrase, !passphrase.isEmpty else {
                throw .writeFailed(path: target.path, detail: "a PKCS#12 bundle needs a passphrase: set IOTCA_BUNDLE_PASSPHRASE or use --bundle-passphrase-file")
            }
            let der = try PKCS12Bundle.make(key: privateKey, certificate: certificateDER, chain: chainDER + [rootDER],
                                            friendlyName: thing, passphrase: passphrase)
            try AtomicFile.write(der, to: target, mode: 0o600, durable: durable)
        case .zip:
            let entries = files.map { ZipArchive.Entry(name: "\(thing)/\($0.name)", contents: $0.contents, mode: $0.mode) }
            // The entries' time is the certificate's notBefore: the same bundle, the same bytes.
            try AtomicFile.write(ZipArchive.make(entries, modified: manifest.notBefore), to: target, mode: secretMode, durable: durable)
        case .dir, .json:
            break
        }
        return target
    }

    /// `--format json`: everything in one object, for scripts that flash devices over a serial line.
    public struct JSONForm: Encodable {
        public let thing: String
        public let certificate_pem: String
        public let private_key_pem: String?
        public let chain_pem: String
        public let root_pem: String
        public let manifest: BundleManifest
    }

    public var jsonForm: JSONForm {
        JSONForm(thing: thing, certificate_pem: certificatePEM, private_key_pem: privateKeyPEM, chain_pem: chainPEM,
                 root_pem: rootPEM, manifest: manifest)
    }

    /// File name, contents and mode, in the order they are written.
    public var files: [(name: String, contents: [UInt8], mode: mode_t)] {
        var files: [(String, [UInt8], mode_t)] = [("cert.pem", PEM.bytes(certificateDER, type: "CERTIFICATE"), 0o644)]
        if let privateKey { files.append(("key.pem", PEM.bytes(privateKey.pkcs8DER, type: "PRIVATE KEY"), 0o600)) }
        files.append(("chain.pem", chain.intermediatesPEMBytes, 0o644))
        files.append(("root.pem", chain.rootPEMBytes, 0o644))
        files.append(("manifest.json", manifest.prettyJSON, 0o644))
        return files
    }

    /// Writes the bundle as the folder `parent/THING/`. The files are written into a hidden
    /// sibling folder first and renamed into place, so the folder is either complete or absent.
    /// An existing folder is replaced only when `replace` is set.
    public func write(into parent: URL, replace: Bool, durable: Bool = true) throws(OutputError) -> URL {
        try write(into: BundleFolder(parent), replace: replace, durable: durable)
        return parent.appendingPathComponent(thing, isDirectory: true)
    }

    /// The same into an open folder: a batch opens its output folder once and stages in the
    /// worker's own folder there (`stagingSlot`, see `BundleFolder`).
    func write(into parent: BundleFolder, replace: Bool, durable: Bool = true, stagingSlot: Int = 0) throws(OutputError) {
        let staging = parent.staging(stagingSlot)
        let name = ".\(thing).tmp-\(AtomicFile.randomSuffix())"
        func failure(_ name: String) -> OutputError { .writeFailed(path: staging.path + "/" + name, detail: String(cString: strerror(errno))) }
        // A folder holding a private key is its owner's alone until the device takes it:
        // made 0700 (a umask can only take bits away). Without a key it is 0755, set exactly
        // below whatever the umask.
        guard mkdirat(staging.descriptor, name, 0o700) == 0 else { throw failure(name) }
        do throws(OutputError) {
            for file in files {
                // One path walk of two names from the staging folder: cheaper than opening
                // and closing the new folder for five files.
                let path = name + "/" + file.name
                try AtomicFile.writeNew(file.contents, name: path, in: staging.descriptor, path: staging.path + "/" + path,
                                        mode: file.mode, durable: durable)
            }
            if privateKey == nil {
                guard fchmodat(staging.descriptor, name, 0o755, 0) == 0 else { throw failure(name) }
            }
            if durable {
                // The files' names live in the new folder, the folder's in the output folder:
                // both are synced, or a power cut can take back a bundle whose row is committed.
                let folder = openat(staging.descriptor, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                guard folder >= 0 else { throw failure(name) }
                defer { close(folder) }
                guard fsync(folder) == 0 else { throw failure(name) }
            }
            try Self.moveIntoPlace(name, from: staging, to: thing, in: parent, replace: replace)
            if durable && fsync(parent.descriptor) != 0 { throw OutputError.writeFailed(path: parent.path, detail: String(cString: strerror(errno))) }
        } catch {
            try? FileManager.default.removeItem(atPath: staging.path + "/" + name)
            throw error
        }
    }

    /// Renames the complete staging folder to `target`. A new bundle never lands on an
    /// existing one (RENAME_NOREPLACE, no check-then-rename race); a replaced one is swapped
    /// atomically (RENAME_EXCHANGE), so the thing never has no folder. File systems without
    /// renameat2 flags fall back to rename(2).
    private static func moveIntoPlace(_ staging: String, from stagingFolder: BundleFolder.Descriptor, to target: String,
                                      in parent: BundleFolder, replace: Bool) throws(OutputError) {
        let noReplace: UInt32 = 1, exchange: UInt32 = 2
        let from = stagingFolder.descriptor, folder = parent.descriptor
        func failed(_ code: Int32) -> OutputError { .writeFailed(path: parent.path + "/" + target, detail: String(cString: strerror(code))) }
        if renameat2(from, staging, folder, target, noReplace) == 0 { return }
        var code = errno
        if code == EINVAL || code == ENOSYS {
            code = faccessat(folder, target, F_OK, 0) == 0 ? EEXIST : (renameat(from, staging, folder, target) == 0 ? 0 : errno)
            if code == 0 { return }
        }
        guard code == EEXIST || code == ENOTEMPTY else { throw failed(code) }
        guard replace else { throw .exists(path: parent.path + "/" + target) }
        if renameat2(from, staging, folder, target, exchange) == 0 {
            try? FileManager.default.removeItem(atPath: stagingFolder.path + "/" + staging)  // now holds the old bundle
            return
        }
        // rename(2) cannot replace a non-empty folder: move the old one aside first.
        let old = ".\(target).old-\(AtomicFile.randomSuffix())"
        guard renameat(folder, target, folder, old) == 0 else { throw failed(errno) }
        guard renameat(from, staging, folder, target) == 0 else {
            let code = errno
            _ = renameat(folder, old, folder, target)
            throw failed(code)
        }
        try? FileManager.default.removeItem(atPath: parent.path + "/" + old)
    }
}

/// A folder bundles are written into, open for the *at(2) calls; made if missing.
///
/// With `privateStaging` (a batch), bundles are staged in a hidden folder of its own inside it
/// and renamed into place: the output folder, which holds a folder per thing, then sees one
/// entry added per bundle, as with a plain mkdir, instead of a staging entry added and removed
/// besides. On ext4 each entry operation in a folder of thousands scans a directory block:
/// measured on a 10,000-bundle batch, 10% less system time. Each worker has its own staging
/// folder (`slot`), so workers do not wait for each other's folder locks. The process holds an
/// flock on each, so the next batch's clean-up removes only abandoned ones; they are removed
/// when this is released.
final class BundleFolder: @unchecked Sendable {
    struct Descriptor {
        let path: String
        let descriptor: Int32
    }

    static let stagingPrefix = ".iotca-staging.tmp-"

    let path: String
    let descriptor: Int32
    private let privateStaging: Bool
    private let stagingName = BundleFolder.stagingPrefix + AtomicFile.randomSuffix()
    private let lock = NSLock()
    /// By slot; the output folder itself where no private one could be made.
    private var stagingFolders: [Int: Descriptor] = [:]

    init(_ url: URL, privateStaging: Bool = false) throws(OutputError) {
        path = url.path
        self.privateStaging = privateStaging
        var descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if descriptor < 0 && errno == ENOENT {
            do {
                try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
            } catch {
                throw .writeFailed(path: path, detail: (error as NSError).localizedDescription)
            }
            descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        }
        guard descriptor >= 0 else { throw .writeFailed(path: path, detail: String(cString: strerror(errno))) }
        self.descriptor = descriptor
    }

    /// Where bundles are staged: slot's private folder, made and locked on first use, or the
    /// output folder itself (without `privateStaging`, or if the private one cannot be made).
    func staging(_ slot: Int) -> Descriptor {
        lock.lock()
        defer { lock.unlock() }
        if let existing = stagingFolders[slot] { return existing }
        var made = Descriptor(path: path, descriptor: descriptor)
        let name = stagingName + "-\(slot)"
        if privateStaging && mkdirat(descriptor, name, 0o700) == 0 {
            let staging = openat(descriptor, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            if staging >= 0 && flock(staging, LOCK_EX | LOCK_NB) == 0 {
                made = Descriptor(path: path + "/" + name, descriptor: staging)
            } else {
                if staging >= 0 { close(staging) }
                unlinkat(descriptor, name, AT_REMOVEDIR)
            }
        }
        stagingFolders[slot] = made
        return made
    }

    deinit {
        for staging in stagingFolders.values where staging.descriptor != descriptor {
            unlinkat(descriptor, (staging.path as NSString).lastPathComponent, AT_REMOVEDIR)
            close(staging.descriptor)
        }
        close(descriptor)
    }

    /// Removes what killed runs left in `folder`: staging folders no process holds a lock on,
    /// and single bundles' staging or swapped-out folders (`.THING.tmp-`, `.THING.old-`) older
    /// than `age` seconds (an `iotca issue` writing one right now is milliseconds old).
    static func removeAbandonedStaging(in folder: URL, now: Date, age: TimeInterval = 600) {
        let now = now.timeIntervalSince1970
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        for name in names where isStagingName(name) {
            let path = folder.path + "/" + name
            if name.hasPrefix(stagingPrefix) {
                let staging = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                guard staging >= 0 else { continue }
                defer { close(staging) }
                guard flock(staging, LOCK_EX | LOCK_NB) == 0 else { continue }  // a batch is using it
            } else {
                var status = stat()
                guard lstat(path, &status) == 0, now - TimeInterval(status.st_mtim.tv_sec) > age else { continue }
            }
            try? FileManager.default.removeItem(atPath: path)
        }
    }

    /// Exactly the names iotca stages under, and nothing else of the folder's: a batch's
    /// `.iotca-staging.tmp-HEX12-SLOT`, a bundle's `.THING.tmp-HEX12` or `.THING.old-HEX12`, and
    /// AtomicFile's `.THING.pem.tmp-HEX12` (likewise .p12, .zip).
    static func isStagingName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        func isHex(_ slice: ArraySlice<UInt8>) -> Bool {
            slice.count == 12 && slice.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
        }
        let prefix = Array(stagingPrefix.utf8)
        if bytes.starts(with: prefix) {
            let rest = bytes[prefix.count...]
            guard let dash = rest.firstIndex(of: UInt8(ascii: "-")) else { return false }
            let slot = rest[(dash + 1)...]
            return isHex(rest[..<dash]) && !slot.isEmpty && slot.count <= 4 && slot.allSatisfy { (0x30...0x39).contains($0) }
        }
        guard bytes.count > 18, bytes[0] == UInt8(ascii: "."), isHex(bytes[(bytes.count - 12)...]) else { return false }
        let marker = String(decoding: bytes[(bytes.count - 17)..<(bytes.count - 12)], as: UTF8.self)
        guard marker == ".tmp-" || marker == ".old-" else { return false }
        var thing = String(decoding: bytes[1..<(bytes.count - 17)], as: UTF8.self)
        for format in [".pem", ".p12", ".zip"] where marker == ".tmp-" && thing.hasSuffix(format) {
            thing.removeLast(format.count)
            break
        }
        return (try? ThingName.validate(thing)) != nil
    }
}
