import Foundation

/// Writes files so a reader (or a crash) never sees half of one: a temporary file in the same
/// folder, flushed, then renamed over the target.
public enum AtomicFile {
    public static func write(_ bytes: [UInt8], to url: URL, mode: mode_t = 0o644, durable: Bool = true) throws(OutputError) {
        try stage(bytes, for: url, mode: mode, durable: durable).commit()
        if durable { try syncFolder(url.deletingLastPathComponent()) }
    }

    /// fsync(2) of a folder: a file's data reaches the disk with its own fsync, but its name
    /// (a create or a rename) only with its folder's. Without it, a power cut can take back a
    /// key file or a bundle that a committed row already points at.
    public static func syncFolder(_ folder: URL) throws(OutputError) {
        let descriptor = open(folder.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .writeFailed(path: folder.path, detail: String(cString: strerror(errno))) }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw .writeFailed(path: folder.path, detail: String(cString: strerror(errno))) }
    }

    /// Streams PEM (base64 in 64-character lines) to `url` without building the whole text in
    /// memory: a large CRL is tens of megabytes of DER.
    public static func writePEM(_ der: [UInt8], type: String, to url: URL, mode: mode_t = 0o644) throws(OutputError) {
        try stagePEM(der, type: type, for: url, mode: mode).commit()
        try syncFolder(url.deletingLastPathComponent())
    }

    public static func write(_ text: String, to url: URL, mode: mode_t = 0o644, durable: Bool = true) throws(OutputError) {
        try write(Array(text.utf8), to: url, mode: mode, durable: durable)
    }

    /// Creates `url`, which must not exist, with `mode` from the start (a key file is never
    /// readable by others, not even for a moment), and flushes it and its folder entry to disk.
    /// `durable: false` skips both: a batch syncs the whole output once per chunk instead.
    public static func writeNew(_ bytes: [UInt8], to url: URL, mode: mode_t, durable: Bool = true) throws(OutputError) {
        try writeNew(bytes, name: url.path, in: AT_FDCWD, path: url.path, mode: mode, durable: durable)
        if durable { try syncFolder(url.deletingLastPathComponent()) }
    }

    /// `name` relative to the open folder `folder` (openat(2)): a bundle's five files cost no
    /// path walks. `path` is only for messages, made only for one.
    static func writeNew(_ bytes: [UInt8], name: String, in folder: Int32, path: @autoclosure () -> String, mode: mode_t,
                         durable: Bool = true) throws(OutputError) {
        let descriptor = openat(folder, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard descriptor >= 0 else {
            let code = errno
            if code == EEXIST { throw .exists(path: path()) }
            throw .writeFailed(path: path(), detail: String(cString: strerror(code)))
        }
        defer { close(descriptor) }
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress, $0.count) }
            guard written > 0 else {
                let detail = String(cString: strerror(errno))
                unlinkat(folder, name, 0)
                throw .writeFailed(path: path(), detail: detail)
            }
            offset += written
        }
        guard !durable || fsync(descriptor) == 0 else {
            let detail = String(cString: strerror(errno))
            unlinkat(folder, name, 0)
            throw .writeFailed(path: path(), detail: detail)
        }
    }

    static func randomSuffix() -> String {
        // Bundles are written thousands a second: 48 bits from a user-space CSPRNG.
        SecureRandom.bytes(6).hexString
    }
}
