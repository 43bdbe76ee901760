import IoTCAKit

/// Why the service cannot start or a client call failed before any answer, worded for the
/// person running it.
public enum ServiceError: IoTCAError, Equatable {
    case invalidConfiguration(String, reason: String)
    case configurationFile(path: String, reason: String)
    case tlsFiles(String)
    case listen(String, reason: String)
    /// The client could not reach the server or complete TLS with it.
    case unreachable(url: String, reason: String)
    /// The server answered with something that is not the API's.
    case unexpectedAnswer(status: Int, detail: String)
    /// The server refused the request (RFC 9457 problem details).
    case refused(Problem)

    public var kind: ErrorKind {
        switch self {
        case .invalidConfiguration, .configurationFile, .tlsFiles: .policy
        case .listen, .unreachable: .unavailable
        case .unexpectedAnswer: .internalError
        case .refused(let problem): problem.name?.kind ?? Self.kind(ofStatus: problem.status)
        }
    }

    /// Whether a batch stops at this error instead of counting a failed row: the server is
    /// gone, or its store cannot be used (a shared database down), which is no row's fault.
    var stopsABatch: Bool {
        switch self {
        case .unreachable: true
        case .refused(let problem): problem.name == .store
        default: false
        }
    }

    /// How the CLI exits for a protocol-level refusal (401, 403, 413, 429 and the like).
    static func kind(ofStatus status: Int) -> ErrorKind {
        switch status {
        case 404: .notFound
        case 409: .conflict
        case 403: .forbidden
        case 401, 400, 413, 415, 422: .policy
        default: .unavailable
        }
    }

    public var description: String {
        switch self {
        case .invalidConfiguration(let what, let reason): "\(what) is not valid: \(reason)"
        case .configurationFile(let path, let reason): "cannot read the configuration file \(path): \(reason)"
        case .tlsFiles(let detail): "cannot use the TLS certificate and key: \(detail)"
        case .listen(let address, let reason): "cannot listen on \(address): \(reason)"
        case .unreachable(let url, let reason): "cannot reach the iotca server at \(url): \(reason)"
        case .unexpectedAnswer(let status, let detail): "the server answered HTTP \(status), not as the iotca API does: \(detail)"
        case .refused(let problem): "the server refused (HTTP \(problem.status), \(problem.title)): \(problem.detail)"
        }
    }
}
