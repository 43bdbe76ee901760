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
    public var chainDER: [[UInt8]]
    public var rootDER: [UInt8]
    public var manifest: BundleManifest

    public var certificatePEM: String { IssuedCertificate.pem(certificateDER) }
    public var privateKeyPEM: String? { privateKey?.pkcs8PEM }
    public var chainPEM: String { chainDER.map(IssuedCertificate.pem).joined() }
    public var rootPEM: String { IssuedCertificate.pem(rootDER) }

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
        let exists = access(targetPath, F_OK) == 0
        if exists && !replace { throw .exists(path: targetPath) }
        if access(parentPath, F_OK) != 0 {
            do {
                try files.createDirectory(at: parent, withIntermediateDirectories: true)
            } catch {
                throw .writeFailed(path: parentPath, detail: (error as NSError).localizedDescription)
            }
        }
        let stagingPath = parentPath + "/.\(thing).tmp-\(AtomicFile.randomSuffix())"
        guard mkdir(stagingPath, 0o700) == 0 else {
            throw .writeFailed(path: stagingPath, detail: String(cString: strerror(errno)))
        }
        do {
            for file in self.files {
                try AtomicFile.writeNew(file.contents, path: stagingPath + "/" + file.name, mode: file.mode, durable: durable)
            }
            // The folder holds a private key: only its owner may list it until the device takes it.
            guard chmod(stagingPath, privateKeyPEM == nil ? 0o755 : 0o700) == 0 else {
                throw OutputError.writeFailed(path: stagingPath, detail: String(cString: strerror(errno)))
            }
            if exists {
                // Swap the old folder out first; rename(2) cannot replace a non-empty folder.
                let oldPath = parentPath + "/.\(thing).old-\(AtomicFile.randomSuffix())"
                guard rename(targetPath, oldPath) == 0 else {
                    throw OutputError.writeFailed(path: targetPath, detail: String(cString: strerror(errno)))
                }
                try? files.removeItem(atPath: oldPath)
            }
            guard rename(stagingPath, targetPath) == 0 else {
                throw OutputError.writeFailed(path: targetPath, detail: String(cString: strerror(errno)))
            }
        } catch let error as OutputError {
            try? files.removeItem(atPath: stagingPath)
            throw error
        } catch {
            try? files.removeItem(atPath: stagingPath)
            throw .writeFailed(path: targetPath, detail: "\(error)")
        }
        return parent.appendingPathComponent(thing, isDirectory: true)
    }
}
