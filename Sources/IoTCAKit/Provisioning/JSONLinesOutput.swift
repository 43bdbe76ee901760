import Foundation
import Synchronization

/// `iotca batch --format jsonl`: one JSON object per bundle (the fields of `--format json`), one
/// line each, in one file or on standard output, for factory systems that keep bundles in a
/// database of their own. Lines are staged as the workers make them and appended per chunk in
/// the file's order, then synced, and only then are the rows marked written: a batch killed at
/// any moment leaves whole lines whose certificates are recorded, and its re-run finds them.
public final class JSONLinesOutput: Sendable {
    private let descriptor: Int32
    private let path: String
    /// Lines made by the workers, waiting for their chunk to be appended.
    private let staged = Mutex<[SerialNumber: [UInt8]]>([:])
    /// One append (write and sync) at a time: lines never interleave.
    private let appending = Mutex(())
    /// thing → serials of the lines already in the file, in file order (a re-run's view of the
    /// last run).
    public let written: [String: [SerialNumber]]

    /// Standard output's path as callers name it (`--out -`).
    public static let standardOutput = URL(fileURLWithPath: "/dev/stdout")

    /// Opens `url` for appending (0600: the lines hold private keys), or standard output for
    /// nil or `standardOutput`. A last line cut short by a kill is removed first: its row was
    /// never marked written. - Throws: `OutputError`.
    public init(_ url: URL?) throws {
        let url = url == Self.standardOutput ? nil : url
        guard let url else {
            descriptor = STDOUT_FILENO
            path = "standard output"
            written = [:]
            return
        }
        path = url.path
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        } catch {
            throw OutputError.writeFailed(path: url.deletingLastPathComponent().path, detail: error.localizedDescription)
        }
        descriptor = open(url.path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw OutputError.writeFailed(path: url.path, detail: String(cString: strerror(errno))) }
        do {
            let existing = try Self.readAll(descriptor, path: url.path)
            let whole = existing.lastIndex(of: 0x0A).map { $0 + 1 } ?? 0
            if whole < existing.count, ftruncate(descriptor, off_t(whole)) != 0 {
                throw OutputError.writeFailed(path: url.path, detail: String(cString: strerror(errno)))
            }
            written = Self.index(existing[..<whole])
        } catch {
            close(descriptor)
            throw error
        }
    }

    deinit { if descriptor != STDOUT_FILENO { close(descriptor) } }

    /// Called on the workers: the bundle's line, kept until its chunk is appended.
    func stage(_ bundle: Bundle, serial: SerialNumber) {
        let line = bundle.compactJSON + [0x0A]
        staged.withLock { $0[serial] = line }
    }

    /// One bundle's line, appended and synced now (a client of the service, which confirms each
    /// delivery as it goes). - Throws: `OutputError`.
    public func append(_ bundle: Bundle, serial: SerialNumber) throws {
        stage(bundle, serial: serial)
        try append([serial])
    }

    /// Appends the staged lines of `serials`, in that order, and syncs the file.
    func append(_ serials: [SerialNumber]) throws {
        var bytes: [UInt8] = []
        staged.withLock { lines in
            for serial in serials { if let line = lines.removeValue(forKey: serial) { bytes += line } }
        }
        try appending.withLock { _ throws(OutputError) in try put(bytes) }
    }

    private func put(_ bytes: [UInt8]) throws(OutputError) {
        var offset = 0
        while offset < bytes.count {
            let count = bytes[offset...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { throw .writeFailed(path: path, detail: String(cString: strerror(errno))) }
            offset += count
        }
        // A pipe cannot be synced (EINVAL): its reader owns durability from here.
        if fsync(descriptor) != 0 && errno != EINVAL && errno != EROFS {
            throw .writeFailed(path: path, detail: String(cString: strerror(errno)))
        }
    }

    private static func readAll(_ descriptor: Int32, path: String) throws -> [UInt8] {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var offset: off_t = 0
        while true {
            let count = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, offset) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw OutputError.writeFailed(path: path, detail: String(cString: strerror(errno))) }
            if count == 0 { return bytes }
            bytes += buffer[0..<count]
            offset += off_t(count)
        }
    }

    /// The thing and serial of each line (a line that does not read is skipped: its thing is
    /// issued again, and the consumer keeps the last line of a thing).
    private static func index(_ bytes: ArraySlice<UInt8>) -> [String: [SerialNumber]] {
        struct Line: Decodable {
            struct Manifest: Decodable { let serial: String }
            let thing: String
            let manifest: Manifest
        }
        var index: [String: [SerialNumber]] = [:]
        let decoder = JSONDecoder()
        for line in bytes.split(separator: 0x0A) {
            guard let read = try? decoder.decode(Line.self, from: Data(line)), let serial = SerialNumber(hex: read.manifest.serial) else { continue }
            index[read.thing, default: []].append(serial)
        }
        return index
    }
}

extension Bundle {
    /// The `--format json` object on one line, written as bytes (keys sorted, as JSONEncoder.iotca).
    var compactJSON: [UInt8] {
        var writer = JSONObjectWriter(capacity: 4_096)
        writer.text("certificate_pem", certificatePEM)
        writer.text("chain_pem", chainPEM)
        writer.json("manifest", manifest.compactJSON)
        writer.textIfPresent("private_key_pem", privateKeyPEM)
        writer.text("root_pem", rootPEM)
        writer.text("thing", thing)
        return writer.finish()
    }
}
