import Foundation

/// The node's own copy of `service-root`'s certificate (`service-root.pin.pem` in the store
/// folder, or a shared store's node folder): the one anchor the service trusts for its clients.
/// The database lists every CA, and someone who can write its rows (a shared PostgreSQL store's
/// other users) could add a CA of their own and a client certificate under it; a chain must
/// therefore end at this file's certificate, which only someone with a shell on the node can
/// change. `init` and `ca create-service` write it; a node that has none (a second node of a
/// shared store) takes the database's on its first start, and says so.
public struct ServiceRootPin: Sendable {
    public static let fileName = "service-root.pin.pem"
    public let file: URL

    public init(folder: URL) {
        file = folder.appendingPathComponent(Self.fileName)
    }

    /// How the anchor was found.
    public enum Origin: Sendable, Equatable {
        /// Read from the node's file.
        case file
        /// Taken from the database and written to the node's file now (trust on first use).
        case pinnedNow
    }

    /// The pinned certificate (DER), and whether the database's `service-root` still matches it.
    public struct Anchor: Sendable {
        public let der: [UInt8]
        public let origin: Origin
        /// False when the database's service root differs from the pin: clients are checked
        /// against the pin all the same, and the operator is told.
        public let matchesStore: Bool
    }

    /// The anchor for `store`'s service clients, pinning the database's service root when the
    /// node has no pin yet.
    /// - Throws: `AuthorityError.notFound` (a store without the service's CAs), `StoreError`
    ///   (the file is unreadable or not a certificate), `OutputError` (it cannot be written).
    public func anchor(store: Store) throws -> Anchor {
        let recorded = try store.authority(named: ServiceHierarchy.rootName).certificateDER
        if let pinned = try read() {
            return Anchor(der: pinned, origin: .file, matchesStore: recorded == pinned)
        }
        guard let recorded else { throw AuthorityError.notFound(ServiceHierarchy.rootName) }
        try write(recorded)
        return Anchor(der: recorded, origin: .pinnedNow, matchesStore: true)
    }

    /// The pinned certificate's DER; nil when the node has no pin.
    public func read() throws(StoreError) -> [UInt8]? {
        guard let data = FileManager.default.contents(atPath: file.path) else {
            if FileManager.default.fileExists(atPath: file.path) { throw .io(path: file.path, detail: "cannot be read") }
            return nil
        }
        guard let (label, der) = PEM.firstBlock(in: Array(data)), label == "CERTIFICATE" else {
            throw .notAStore(path: file.path, detail: "the service root pin is not a PEM certificate; copy it again from a node whose pin is right")
        }
        return der
    }

    /// Writes `der` as the pin (readable by all: it is a public certificate).
    public func write(_ der: [UInt8]) throws(OutputError) {
        try AtomicFile.writePEM(der, type: "CERTIFICATE", to: file)
    }
}
