import Foundation

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
