import COpenSSL
import Foundation

/// What one thing receives: its certificate, its private key unless it sent a CSR, the chain
/// to the root, the root itself and a manifest.
public struct Bundle: Sendable {
    public var thing: String
    public var certificateDER: [UInt8]
    /// Handed out once and never stored by the CA.
    public var privateKey: PrivateKeyMaterial?
    /// The key prepared to succeed `privateKey` (templates with `nextKey`), kept beside it.
    public var nextPrivateKey: PrivateKeyMaterial?
    /// The issuing CA up to but excluding the root, leaf-most first.
    public let chain: CertificateChain
    public var manifest: BundleManifest
    /// A Matter Certification Declaration (the CSA-signed CMS blob) carried as cd.der in the
    /// matter format; the CA does not read it.
    public var certificationDeclaration: [UInt8]?

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

    /// Where `format` puts the bundle under `parent`; nil for `json` and `jsonl` (no file of its own).
    public static func location(of thing: String, format: BundleFormat, in parent: URL) -> URL? {
        switch format {
        case .dir, .matter: return parent.appendingPathComponent(thing, isDirectory: true)
        case .json, .jsonl: return nil
        case .pem, .p12, .zip: return parent.appendingPathComponent("\(thing).\(format.rawValue)")
        }
    }

    /// The certificates (DER) in `thing`'s bundle under `parent`, for the formats that can be
    /// read back (dir: cert.pem, pem: the one file); empty when there is none or it is another
    /// format. How a re-run tells a bundle written before a kill from one never written.
    public static func certificatesOnDisk(of thing: String, format: BundleFormat, in parent: URL) -> [[UInt8]] {
        guard let location = location(of: thing, format: format, in: parent) else { return [] }
        let file: URL
        switch format {
        case .dir: file = location.appendingPathComponent("cert.pem")
        case .pem: file = location
        case .matter:
            return (try? Data(contentsOf: location.appendingPathComponent(Self.matterCertificateFile))).map { [Array($0)] } ?? []
        case .p12, .zip, .json, .jsonl: return []
        }
        guard let text = try? String(contentsOf: file, encoding: .utf8) else { return [] }
        return PEMBundle.derDocuments(in: text, type: "CERTIFICATE")
    }

    /// Writes the bundle in `format` (p12 needs `passphrase`); returns where, nil for json.
    public func write(_ format: BundleFormat, into parent: URL, replace: Bool, passphrase: Passphrase? = nil,
                      durable: Bool = true) throws(OutputError) -> URL? {
        guard let target = Self.location(of: thing, format: format, in: parent) else { return nil }
        if format.isFolder { return try write(into: parent, format: format, replace: replace, durable: durable) }
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
            guard let privateKey else { throw .writeFailed(path: target.path, detail: "a PKCS#12 bundle needs the private key, which stays on the device that sent a CSR") }
            guard let passphrase, !passphrase.isEmpty else {
                throw .writeFailed(path: target.path, detail: "a PKCS#12 bundle needs a bundle passphrase")
            }
            let der = try PKCS12Bundle.make(key: privateKey, certificate: certificateDER, chain: chainDER + [rootDER],
                                            friendlyName: thing, passphrase: passphrase)
            try AtomicFile.write(der, to: target, mode: 0o600, durable: durable)
        case .zip:
            let entries = files.map { ZipArchive.Entry(name: "\(thing)/\($0.name)", contents: $0.contents, mode: $0.mode) }
            // The entries' time is the certificate's notBefore: the same bundle, the same bytes.
            try AtomicFile.write(ZipArchive.make(entries, modified: manifest.notBefore), to: target, mode: secretMode, durable: durable)
        case .dir, .matter, .json, .jsonl:
            break
        }
        return target
    }

    /// `--format json`: everything in one object, for scripts that flash devices over a serial line.
    public struct JSONForm: Codable, Sendable {
        public let thing: String
        public let certificate_pem: String
        public let private_key_pem: String?
        public let chain_pem: String
        public let root_pem: String
        public let manifest: BundleManifest
    }

    /// A bundle received in its JSON form (from `iotca serve`), to be written as any other.
    /// - Throws: `PolicyError.invalidValue` when a part does not parse.
    public init(jsonForm form: JSONForm) throws {
        func documents(_ text: String, _ part: String) throws -> [[UInt8]] {
            let found = PEMBundle.derDocuments(in: text, type: "CERTIFICATE")
            guard text.isEmpty || !found.isEmpty else { throw PolicyError.invalidValue(part, reason: "holds no PEM certificate") }
            return found
        }
        guard let certificate = try documents(form.certificate_pem, "certificate_pem").first,
              let root = try documents(form.root_pem, "root_pem").first else {
            throw PolicyError.invalidValue("bundle", reason: "a certificate and a root are required")
        }
        let key = try form.private_key_pem.map { pem throws(KeyError) in try PrivateKeyMaterial(pem: pem, passphrase: nil, path: "private_key_pem") }
        self.init(thing: form.thing, certificateDER: certificate, privateKey: key,
                  chain: try CertificateChain(intermediates: try documents(form.chain_pem, "chain_pem"), root: root), manifest: form.manifest)
    }

    public var jsonForm: JSONForm {
        JSONForm(thing: thing, certificate_pem: certificatePEM, private_key_pem: privateKeyPEM, chain_pem: chainPEM,
                 root_pem: rootPEM, manifest: manifest)
    }

    /// File name, contents and mode, in the order they are written.
    public var files: [(name: String, contents: [UInt8], mode: mode_t)] { files(for: .dir) }

    func files(for format: BundleFormat) -> [(name: String, contents: [UInt8], mode: mode_t)] {
        if format == .matter { return matterFiles }
        var files: [(String, [UInt8], mode_t)] = [("cert.pem", PEM.bytes(certificateDER, type: "CERTIFICATE"), 0o644)]
        if let privateKey { files.append(("key.pem", PEM.bytes(privateKey.pkcs8DER, type: "PRIVATE KEY"), 0o600)) }
        if let nextPrivateKey { files.append(("next-key.pem", PEM.bytes(nextPrivateKey.pkcs8DER, type: "PRIVATE KEY"), 0o600)) }
        files.append(("chain.pem", chain.intermediatesPEMBytes, 0o644))
        files.append(("root.pem", chain.rootPEMBytes, 0o644))
        files.append(("manifest.json", manifest.prettyJSON, 0o644))
        return files
    }

    /// Writes the bundle as the folder `parent/THING/`. The files are written into a hidden
    /// sibling folder first and renamed into place, so the folder is either complete or absent.
    /// An existing folder is replaced only when `replace` is set.
    public func write(into parent: URL, format: BundleFormat = .dir, replace: Bool, durable: Bool = true) throws(OutputError) -> URL {
        try write(into: BundleFolder(parent), format: format, replace: replace, durable: durable)
        return parent.appendingPathComponent(thing, isDirectory: true)
    }

    /// The same into an open folder: a batch opens its output folder once and stages in the
    /// worker's own folder there (`stagingSlot`, see `BundleFolder`).
    func write(into parent: BundleFolder, format: BundleFormat = .dir, replace: Bool, durable: Bool = true,
               stagingSlot: Int = 0) throws(OutputError) {
        let staging = parent.staging(stagingSlot)
        let name = ".\(thing).tmp-\(AtomicFile.randomSuffix())"
        func failure(_ name: String) -> OutputError { .writeFailed(path: staging.path + "/" + name, detail: String(cString: strerror(errno))) }
        // A folder holding a private key is its owner's alone until the device takes it:
        // made 0700 (a umask can only take bits away). Without a key it is 0755, set exactly
        // below whatever the umask.
        guard mkdirat(staging.descriptor, name, 0o700) == 0 else { throw failure(name) }
        do throws(OutputError) {
            for file in files(for: format) {
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

    /// Whether the folder at `path` is a bundle of `thing`: its manifest names it.
    static func isBundle(of thing: String, at path: String) -> Bool {
        guard let data = FileManager.default.contents(atPath: path + "/manifest.json"),
              let manifest = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return false }
        return manifest["thing"] as? String == thing
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
        // Only a bundle of this thing is replaced (and so removed): never a folder someone
        // else keeps under that name.
        guard isBundle(of: target, at: parent.path + "/" + target) else {
            throw .writeFailed(path: parent.path + "/" + target, detail: "it exists and is not a bundle of \(target) (no manifest.json naming it): move it away")
        }
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
