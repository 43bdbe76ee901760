import Foundation

/// Reads a small input file (a CSR) without following it anywhere unexpected: a regular file
/// only (never a FIFO, a device such as /dev/zero, or a folder), at most `limit` bytes plus
/// one (so an oversized file is refused without reading it all). With `within`, the file must
/// resolve (symbolic links followed) to a path inside that folder: a batch file names CSRs
/// beside it, never /etc/shadow or ../../other-line.
public enum RequestFile {
    public static func read(_ path: String, limit: Int, within folder: URL? = nil) throws(PolicyError) -> [UInt8] {
        var resolvedPath = path
        if let folder {
            guard !path.hasPrefix("/") else {
                throw .invalidCSR(reason: "\(PolicyError.quoted(path)) is an absolute path: name CSR files relative to the batch file's folder")
            }
            guard let base = realpath(folder.path, nil) else { throw .invalidCSR(reason: "cannot read \(folder.path)") }
            let basePath = String(cString: base)
            free(base)
            guard let resolved = realpath(folder.appendingPathComponent(path).path, nil) else {
                throw .invalidCSR(reason: "cannot read \(PolicyError.quoted(path)): \(String(cString: strerror(errno)))")
            }
            resolvedPath = String(cString: resolved)
            free(resolved)
            guard resolvedPath.hasPrefix(basePath == "/" ? "/" : basePath + "/") else {
                throw .invalidCSR(reason: "\(PolicyError.quoted(path)) lies outside the batch file's folder \(basePath)")
            }
        }
        // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below.
        let descriptor = open(resolvedPath, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else { throw .invalidCSR(reason: "cannot read \(PolicyError.quoted(path)): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0, status.st_mode & S_IFMT == S_IFREG else {
            throw .invalidCSR(reason: "\(PolicyError.quoted(path)) is not a regular file")
        }
        var bytes = [UInt8](repeating: 0, count: limit + 1)
        var count = 0
        while count < bytes.count {
            let read = bytes[count...].withUnsafeMutableBytes { Foundation.read(descriptor, $0.baseAddress, $0.count) }
            if read < 0 && errno == EINTR { continue }
            guard read >= 0 else { throw .invalidCSR(reason: "cannot read \(PolicyError.quoted(path)): \(String(cString: strerror(errno)))") }
            if read == 0 { break }
            count += read
        }
        return Array(bytes.prefix(count))
    }
}
