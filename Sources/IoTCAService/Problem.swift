import HTTPTypes
import IoTCAKit

/// An API error as RFC 9457 problem details: a stable `type` URI a client branches on, the
/// HTTP status, a short title, and the library's one-line message as `detail`.
/// Types are `urn:iotca:problem:NAME` (RFC 9457 §3.1.1 allows a URI that does not resolve);
/// the names are part of the API (README, "The service").
public struct Problem: Error, Sendable, Codable, Equatable {
    public let type: String
    public let title: String
    public let status: Int
    public let detail: String
    /// Seconds, for 429 and 503 (sent as `Retry-After` too).
    public let retryAfter: Int?

    public init(_ name: Name, detail: String, retryAfter: Int? = nil) {
        type = Problem.prefix + name.rawValue
        title = name.title
        status = name.status
        self.detail = detail
        self.retryAfter = retryAfter
    }

    static let prefix = "urn:iotca:problem:"

    /// The problem's short name: the last part of its type URI.
    public var name: Name? { type.hasPrefix(Problem.prefix) ? Name(rawValue: String(type.dropFirst(Problem.prefix.count))) : nil }

    /// Every problem the API answers with.
    public enum Name: String, Sendable, CaseIterable {
        // Protocol-level: the request itself.
        case badRequest = "bad-request"
        case unauthenticated
        case forbidden
        case noRoute = "no-route"
        case methodNotAllowed = "method-not-allowed"
        case tooLarge = "too-large"
        case unsupportedMediaType = "unsupported-media-type"
        case rateLimited = "rate-limited"
        case busy
        // The library's error kinds.
        case policy
        case conflict
        case notFound = "not-found"
        case unavailable
        case store
        case passphrase
        case output
        case internalError = "internal"

        public var status: Int {
            switch self {
            case .badRequest: 400
            case .unauthenticated: 401
            case .forbidden: 403
            case .noRoute, .notFound: 404
            case .methodNotAllowed: 405
            case .conflict: 409
            case .tooLarge: 413
            case .unsupportedMediaType: 415
            case .policy: 422
            case .rateLimited: 429
            case .internalError, .output: 500
            case .unavailable, .store, .passphrase, .busy: 503
            }
        }

        public var title: String {
            switch self {
            case .badRequest: "The request is malformed"
            case .unauthenticated: "Who is asking could not be established"
            case .forbidden: "This client may not do that"
            case .noRoute: "No such resource"
            case .methodNotAllowed: "Method not allowed on this resource"
            case .tooLarge: "The request body is too large"
            case .unsupportedMediaType: "The request body must be JSON"
            case .rateLimited: "Too many requests from this client"
            case .busy: "The server is at its limit of concurrent requests"
            case .policy: "Refused by policy"
            case .conflict: "Conflicts with what exists"
            case .notFound: "Not found"
            case .unavailable: "The certificate authority cannot act"
            case .store: "The store cannot be used"
            case .passphrase: "The CA key cannot be opened"
            case .output: "A result could not be written"
            case .internalError: "Internal error"
            }
        }

        /// The problem for each kind of library error.
        public init(_ kind: ErrorKind) {
            switch kind {
            case .internalError: self = .internalError
            case .store: self = .store
            case .passphrase: self = .passphrase
            case .policy: self = .policy
            case .unavailable: self = .unavailable
            case .conflict: self = .conflict
            case .notFound: self = .notFound
            case .output: self = .output
            case .forbidden: self = .forbidden
            }
        }

        /// The library's error kind a problem stands for, so the client exits as the CLI would
        /// have locally; nil for protocol-level problems.
        public var kind: ErrorKind? {
            switch self {
            case .policy: .policy
            case .conflict: .conflict
            case .notFound: .notFound
            case .unavailable: .unavailable
            case .store: .store
            case .passphrase: .passphrase
            case .output: .output
            case .internalError: .internalError
            case .forbidden: .forbidden
            default: nil
            }
        }
    }

    /// The problem for a library error; any other error is internal and its text is not sent
    /// (it may describe the server's files).
    public init(_ error: any Error) {
        if let problem = error as? Problem {
            self = problem
        } else if let error = error as? any IoTCAError {
            self.init(Name(error.kind), detail: error.description)
        } else {
            self.init(.internalError, detail: "The server failed; its log has the details.")
        }
    }

    static let mediaType = "application/problem+json"

    enum CodingKeys: String, CodingKey {
        case type, title, status, detail
        case retryAfter = "retry_after"
    }
}
