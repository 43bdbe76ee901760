import Foundation

/// A file written and flushed under a temporary name beside its target, and put in place by
/// `commit` (a rename): the slow part (writing, fsync) can run before the moment the file may
/// appear, for instance while the store records what the file holds. Whoever stages a file
/// commits or discards it; the caller syncs the folder once after its commits.
public struct StagedFile: Sendable {
    let temporary: URL
    public let target: URL

    public func commit() throws(OutputError) {
        guard rename(temporary.path, target.path) == 0 else {
            let detail = String(cString: strerror(errno))
            discard()
            throw .writeFailed(path: target.path, detail: detail)
        }
    }

    public func discard() { unlink(temporary.path) }

    /// Whether the temporary file is gone (removed as abandoned by another process).
    public var isMissing: Bool { access(temporary.path, F_OK) != 0 }
}

extension AtomicFile {
    static func temporary(for url: URL) -> URL {
        url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(randomSuffix())")
    }

    /// `bytes` written (and, when `durable`, flushed) beside `url`, not yet in its place.
    public static func stage(_ bytes: [UInt8], for url: URL, mode: mode_t = 0o644, durable: Bool = true) throws(OutputError) -> StagedFile {
        let temporary = temporary(for: url)
        try writeNew(bytes, name: temporary.path, in: AT_FDCWD, path: temporary.path, mode: mode, durable: durable)
        return StagedFile(temporary: temporary, target: url)
    }

    /// `der` as PEM (base64 in 64-character lines), streamed in chunks beside `url` and flushed.
    public static func stagePEM(_ der: [UInt8], type: String, for url: URL, mode: mode_t = 0o644) throws(OutputError) -> StagedFile {
        let temporary = temporary(for: url)
        let descriptor = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard descriptor >= 0 else { throw .writeFailed(path: url.path, detail: String(cString: strerror(errno))) }
        var failed = false
        func emit(_ bytes: [UInt8]) {
            var offset = 0
            while !failed && offset < bytes.count {
                let written = bytes[offset...].withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress, $0.count) }
                if written <= 0 { failed = true } else { offset += written }
            }
        }
        emit(Array("-----BEGIN \(type)-----\n".utf8))
        // 48 input bytes make one 64-character line; encode a few thousand lines per write.
        let chunkBytes = 48 * 16_384
        var chunk: [UInt8] = []
        chunk.reserveCapacity(chunkBytes / 48 * 65)
        var start = 0
        while start < der.count && !failed {
            let end = min(der.count, start + chunkBytes)
            chunk.removeAll(keepingCapacity: true)
            Base64.appendLines(der[start..<end], to: &chunk)
            emit(chunk)
            start = end
        }
        emit(Array("-----END \(type)-----\n".utf8))
        if !failed && fsync(descriptor) != 0 { failed = true }
        let detail = String(cString: strerror(errno))
        close(descriptor)
        guard !failed else {
            unlink(temporary.path)
            throw .writeFailed(path: url.path, detail: detail)
        }
        return StagedFile(temporary: temporary, target: url)
    }
}
