import Foundation

/// Where a store's record lives: a folder (SQLite inside, the default), or a PostgreSQL
/// database several nodes share, with a folder of this node's own (its copies of the public
/// files, the service's TLS material).
public enum StoreLocation: Sendable, Equatable {
    case folder(URL)
    case postgres(PostgresLocation, nodeFolder: URL)

    /// `text` is a folder path or a `postgres://` URL; `passwordFile` and `nodeFolder` only
    /// matter for a URL (the node folder defaults to `./iotca-node`).
    public init(_ text: String, passwordFile: String? = nil, nodeFolder: String? = nil,
                environment: [String: String]) throws(StoreError) {
        if PostgresLocation.isURL(text) {
            self = .postgres(try PostgresLocation(url: text, passwordFile: passwordFile, environment: environment),
                             nodeFolder: URL(fileURLWithPath: nodeFolder ?? "iotca-node").standardizedFileURL)
        } else {
            self = .folder(URL(fileURLWithPath: text).standardizedFileURL)
        }
    }

    /// The folder for this node's files (`StoreLayout`): the store folder itself, or the node folder.
    public var folder: URL {
        switch self {
        case .folder(let url): url
        case .postgres(_, let node): node
        }
    }

    public var description: String {
        switch self {
        case .folder(let url): url.path
        case .postgres(let location, _): location.description
        }
    }
}
