import Foundation

/// The store files of a folder store: plain files under its root, written durably.
struct FolderFiles: StoreFiles {
    let layout: StoreLayout

    func read(_ relative: String) throws -> [UInt8]? {
        let path = layout.url(relative).path
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        do {
            return Array(try Data(contentsOf: layout.url(relative)))
        } catch {
            throw KeyError.unreadableKeyFile(path: path, detail: (error as NSError).localizedDescription)
        }
    }

    func createNew(_ relative: String, _ bytes: [UInt8], mode: mode_t) throws {
        try AtomicFile.writeNew(bytes, to: layout.url(relative), mode: mode)
    }

    func write(_ relative: String, _ bytes: [UInt8], mode: mode_t) throws {
        try AtomicFile.write(bytes, to: layout.url(relative), mode: mode)
    }

    @discardableResult
    func remove(_ relatives: [String]) throws -> Int {
        var removed = 0, folders = Set<URL>()
        for relative in relatives where unlink(layout.url(relative).path) == 0 {
            removed += 1
            folders.insert(layout.url(relative).deletingLastPathComponent())
        }
        for folder in folders { try AtomicFile.syncFolder(folder) }
        return removed
    }

    func list(_ folder: String) throws -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: layout.url(folder).path)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
    }

    func withLock<T>(_ name: String, _ body: () throws -> T) throws -> T {
        try LockFile.withExclusive(try layout.locksFolder().appendingPathComponent("\(name).lock"),
                                   failure: { StoreError.io(path: $0, detail: $1) }, body)
    }

    func tryLock(_ name: String) throws -> (any StoreFileLock)? {
        try FileLock.take(try layout.locksFolder().appendingPathComponent("\(name).lock").path)
    }

    func describe(_ relative: String) -> String { layout.url(relative).path }

    /// An flock(2) on a lock file that the holder removes when it releases it.
    struct FileLock: StoreFileLock {
        let descriptor: Int32
        let path: String

        static func take(_ path: String) throws -> FileLock? {
            // A holder removes the file when it releases: a lock taken on a file that is no
            // longer the one at `path` protects nothing, so check and retry (bounded).
            for _ in 0..<8 {
                let candidate = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
                guard candidate >= 0 else { throw StoreError.io(path: path, detail: String(cString: strerror(errno))) }
                guard flock(candidate, LOCK_EX | LOCK_NB) == 0 else {
                    close(candidate)
                    return nil
                }
                var held = stat(), current = stat()
                if fstat(candidate, &held) == 0 && stat(path, &current) == 0 && held.st_ino == current.st_ino && held.st_dev == current.st_dev {
                    return FileLock(descriptor: candidate, path: path)
                }
                close(candidate)
            }
            return nil
        }

        func release() {
            unlink(path)
            flock(descriptor, LOCK_UN)
            close(descriptor)
        }
    }
}
