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
            try AtomicFile.write(ZipArchive.make(entries), to: target, mode: secretMode, durable: durable)
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
        var files: [(String, [UInt8], mode_t)] = [("cert.pem", Array(certificatePEM.utf8), 0o644)]
        if let privateKeyPEM { files.append(("key.pem", Array(privateKeyPEM.utf8), 0o600)) }
        files.append(("chain.pem", Array(chainPEM.utf8), 0o644))
        files.append(("root.pem", Array(rootPEM.utf8), 0o644))
        files.append(("manifest.json", manifest.prettyJSON, 0o644))
        return files
    }

    /// Writes the bundle as the folder `parent/THING/`. The files are written into a hidden
    /// sibling folder first and renamed into place, so the folder is either complete or absent.
    /// An existing folder is replaced only when `replace` is set.
    public func write(into parent: URL, replace: Bool, durable: Bool = true) throws(OutputError) -> URL {
        // Plain path strings: Foundation's URL appending and `.path` cost more than the writes.
        let parentPath = parent.path
        let targetPath = parentPath + "/" + thing
        let files = FileManager.default
        let stagingPath = parentPath + "/.\(thing).tmp-\(AtomicFile.randomSuffix())"
        var made = mkdir(stagingPath, 0o700) == 0
        if !made && errno == ENOENT {
            do {
                try files.createDirectory(at: parent, withIntermediateDirectories: true)
            } catch {
                throw .writeFailed(path: parentPath, detail: (error as NSError).localizedDescription)
            }
            made = mkdir(stagingPath, 0o700) == 0
        }
        guard made else { throw .writeFailed(path: stagingPath, detail: String(cString: strerror(errno))) }
        let staging = open(stagingPath, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        defer { if staging >= 0 { close(staging) } }
        do {
            guard staging >= 0 else { throw OutputError.writeFailed(path: stagingPath, detail: String(cString: strerror(errno))) }
            for file in self.files {
                try AtomicFile.writeNew(file.contents, name: file.name, in: staging, path: stagingPath + "/" + file.name,
                                        mode: file.mode, durable: durable)
            }
            // The folder holds a private key: only its owner may list it until the device takes
            // it. Set exactly, whatever the umask.
            guard fchmod(staging, privateKeyPEM == nil ? 0o755 : 0o700) == 0 else {
                throw OutputError.writeFailed(path: stagingPath, detail: String(cString: strerror(errno)))
            }
            try Self.moveIntoPlace(stagingPath, targetPath, replace: replace)
        } catch let error as OutputError {
            try? files.removeItem(atPath: stagingPath)
            throw error
        } catch {
            try? files.removeItem(atPath: stagingPath)
            throw .writeFailed(path: targetPath, detail: "\(error)")
        }
        return parent.appendingPathComponent(thing, isDirectory: true)
    }

    /// Renames the complete staging folder to `target`. A new bundle never lands on an
    /// existing one (RENAME_NOREPLACE, no check-then-rename race); a replaced one is swapped
    /// atomically (RENAME_EXCHANGE), so the thing never has no folder. File systems without
    /// renameat2 flags fall back to rename(2).
    private static func moveIntoPlace(_ staging: String, _ target: String, replace: Bool) throws(OutputError) {
        let noReplace: UInt32 = 1, exchange: UInt32 = 2
        func failed(_ code: Int32) -> OutputError { .writeFailed(path: target, detail: String(cString: strerror(code))) }
        if renameat2(AT_FDCWD, staging, AT_FDCWD, target, noReplace) == 0 { return }
        var code = errno
        if code == EINVAL || code == ENOSYS {
            code = access(target, F_OK) == 0 ? EEXIST : (rename(staging, target) == 0 ? 0 : errno)
            if code == 0 { return }
        }
        guard code == EEXIST || code == ENOTEMPTY else { throw failed(code) }
        guard replace else { throw .exists(path: target) }
        if renameat2(AT_FDCWD, staging, AT_FDCWD, target, exchange) == 0 {
            try? FileManager.default.removeItem(atPath: staging)  // now holds the old bundle
            return
        }
        // rename(2) cannot replace a non-empty folder: move the old one aside first.
        let old = (target as NSString).deletingLastPathComponent + "/.\((target as NSString).lastPathComponent).old-\(AtomicFile.randomSuffix())"
        guard rename(target, old) == 0 else { throw failed(errno) }
        guard rename(staging, target) == 0 else {
            let code = errno
            _ = rename(old, target)
            throw failed(code)
        }
        try? FileManager.default.removeItem(atPath: old)
    }
}
