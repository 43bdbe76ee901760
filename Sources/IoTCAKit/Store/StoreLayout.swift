import Foundation

/// Where things live inside a store folder. Paths recorded in the database are relative to the
/// store, so a store can be moved or backed up as one folder.
public struct StoreLayout: Sendable, Equatable {
    public let root: URL

    public init(root: URL) { self.root = root.standardizedFileURL }

    public var database: URL { root.appendingPathComponent("iotca.db") }
    public var keys: URL { root.appendingPathComponent("keys") }
    public var publicFolder: URL { root.appendingPathComponent("public") }
    public var templates: URL { root.appendingPathComponent("templates") }

    /// A key file name of its own for every key made (`keys/NAME.HEX.key.pem`): two processes
    /// creating a CA of the same name at once each write their own file, the store decides which
    /// CA exists, and the loser removes only its own file. A shared name let the loser move the
    /// winner's key aside (an orphan rename cannot tell a crashed create from one in flight).
    static func newKeyFile(for authority: String) -> String { "keys/\(authority).\(AtomicFile.randomSuffix()).key.pem" }
    /// Lock files of running batches (`BatchLock`).
    public var locks: URL { root.appendingPathComponent("locks", isDirectory: true) }

    /// `locks`, made (0700) if a store from before it lacks it.
    func locksFolder() throws(StoreError) -> URL {
        if mkdir(locks.path, 0o700) != 0 && errno != EEXIST {
            throw .io(path: locks.path, detail: String(cString: strerror(errno)))
        }
        return locks
    }
    public func url(_ relative: String) -> URL { root.appendingPathComponent(relative) }
    public func certificateFile(for authority: String) -> URL { publicFolder.appendingPathComponent("\(authority).crt") }
}
