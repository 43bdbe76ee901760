public enum StoreError: IoTCAError, Equatable {
    case notFound(path: String)
    case alreadyExists(path: String)
    case notAStore(path: String, detail: String)
    case busy(path: String)
    case readOnly(path: String)
    case database(String)
    case io(path: String, detail: String)
    case corruptRow(table: String, key: String, detail: String)
    /// A store URL that cannot be used as written.
    case badLocation(String, detail: String)
    /// The database server cannot be reached, refused the login, or went away mid-transaction
    /// (the transaction then did not commit).
    case unavailable(location: String, detail: String)
    /// The connection broke while the database was committing: the change may or may not
    /// have been recorded (the one case a database cannot tell the client).
    case commitUnknown(location: String, detail: String)

    public var kind: ErrorKind { .store }

    public var description: String {
        switch self {
        case .notFound(let path):
            return "no store at \(path)"
        case .alreadyExists(let path):
            return "\(path) already holds a store or other files: refusing to touch it"
        case .notAStore(let path, let detail):
            return "\(path) is not a readable iotca store: \(detail)"
        case .busy(let path):
            return "the store \(path) stayed locked by another process past the busy timeout: try again"
        case .readOnly(let path):
            return "the store \(path) is read-only: iotca needs write access to record what it issues"
        case .database(let detail):
            return "store error: \(detail)"
        case .io(let path, let detail):
            return "cannot write \(path): \(detail)"
        case .corruptRow(let table, let key, let detail):
            return "the store's \(table) row \(key) is corrupt (\(detail)): restore it from a backup"
        case .badLocation(let location, let detail):
            return "the store \(location) cannot be used: \(detail)"
        case .unavailable(let location, let detail):
            return "the database of the store \(location) is unavailable (\(detail)): nothing was recorded; try again when it is back"
        case .commitUnknown(let location, let detail):
            return "the connection to the store \(location) broke while it committed (\(detail)): the change may have been recorded; look at the record before trying again"
        }
    }
}
