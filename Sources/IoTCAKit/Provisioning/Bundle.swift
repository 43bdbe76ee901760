import Foundation

/// What one thing receives: its certificate, its private key unless it sent a CSR, the chain
/// to the root, the root itself and a manifest.
public struct Bundle: Sendable {
    public var thing: String
    public var certificatePEM: String
    /// Unencrypted PKCS#8, handed out once and never stored by the CA.
    public var privateKeyPEM: String?
    /// The issuing CA up to but excluding the root, leaf-most first.
    public var chainPEM: String
    public var rootPEM: String
    public var manifest: BundleManifest

    /// File name, contents and mode, in the order they are written.
    public var files: [(name: String, contents: [UInt8], mode: mode_t)] {
        var files: [(String, [UInt8], mode_t)] = [("cert.pem", Array(certificatePEM.utf8), 0o644)]
        if let privateKeyPEM { files.append(("key.pem", Array(privateKeyPEM.utf8), 0o600)) }
        files.append(("chain.pem", Array(chainPEM.utf8), 0o644))
        files.append(("root.pem", Array(rootPEM.utf8), 0o644))
        // Encoding strings and dates cannot fail.
        let manifestJSON: [UInt8] = ((try? JSONEncoder.iotca.encode(manifest)).map { Array($0) } ?? []) + [0x0A]
        files.append(("manifest.json", manifestJSON, 0o644))
        return files
    }

    /// Writes the bundle as the folder `parent/THING/`. The files are written into a hidden
    /// sibling folder first and renamed into place, so the folder is either complete or absent.
    /// An existing folder is replaced only when `replace` is set.
    public func write(into parent: URL, replace: Bool) throws(OutputError) -> URL {
        let target = parent.appendingPathComponent(thing, isDirectory: true)
        let files = FileManager.default
        let exists = files.fileExists(atPath: target.path)
        if exists && !replace { throw .exists(path: target.path) }
        do {
            try files.createDirectory(at: parent, withIntermediateDirectories: true)
        } catch {
            throw .writeFailed(path: parent.path, detail: (error as NSError).localizedDescription)
        }
        let staging = parent.appendingPathComponent(".\(thing).tmp-\(AtomicFile.randomSuffix())", isDirectory: true)
        guard mkdir(staging.path, 0o700) == 0 else {
            throw .writeFailed(path: staging.path, detail: String(cString: strerror(errno)))
        }
        do {
            for file in self.files {
                try AtomicFile.writeNew(file.contents, to: staging.appendingPathComponent(file.name), mode: file.mode)
            }
            // The folder holds a private key: only its owner may list it until the device takes it.
            guard chmod(staging.path, privateKeyPEM == nil ? 0o755 : 0o700) == 0 else {
                throw OutputError.writeFailed(path: staging.path, detail: String(cString: strerror(errno)))
            }
            if exists {
                // Swap the old folder out first; rename(2) cannot replace a non-empty folder.
                let old = parent.appendingPathComponent(".\(thing).old-\(AtomicFile.randomSuffix())")
                guard rename(target.path, old.path) == 0 else {
                    throw OutputError.writeFailed(path: target.path, detail: String(cString: strerror(errno)))
                }
                try? files.removeItem(at: old)
            }
            guard rename(staging.path, target.path) == 0 else {
                throw OutputError.writeFailed(path: target.path, detail: String(cString: strerror(errno)))
            }
        } catch let error as OutputError {
            try? files.removeItem(at: staging)
            throw error
        } catch {
            try? files.removeItem(at: staging)
            throw .writeFailed(path: target.path, detail: "\(error)")
        }
        return target
    }
}
