/// A bundle or file could not be written where asked.
public enum OutputError: IoTCAError, Equatable {
    case exists(path: String)
    case writeFailed(path: String, detail: String)

    public var kind: ErrorKind {
        switch self {
        case .exists: return .conflict
        case .writeFailed: return .output
        }
    }

    public var description: String {
        switch self {
        case .exists(let path): return "\(path) already exists: refusing to overwrite it"
        case .writeFailed(let path, let detail): return "cannot write \(path): \(detail)"
        }
    }
}
