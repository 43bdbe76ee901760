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

    static func keyFile(for authority: String) -> String { "keys/\(authority).key.pem" }
    public func url(_ relative: String) -> URL { root.appendingPathComponent(relative) }
    public func certificateFile(for authority: String) -> URL { publicFolder.appendingPathComponent("\(authority).crt") }
}
