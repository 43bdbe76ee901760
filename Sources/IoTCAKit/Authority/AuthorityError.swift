/// Why a CA cannot be created, changed or used.
public enum AuthorityError: IoTCAError, Equatable {
    case notFound(String)
    case alreadyExists(String)
    case disabled(String)
    case revoked(String)
    case pending(String)
    case expired(String, notAfter: String)
    case cannotCertifyCA(parent: String, reason: String)
    case notPending(String)
    case importRejected(String, reason: String)
    case noStandbyKey
    /// The next root's certificate exists (firmware may trust it): its validity is fixed.
    case nextRootAlreadyCertified(String, notAfter: String)
    case nextRootUnusable(String, reason: String)

    public var kind: ErrorKind {
        switch self {
        case .notFound: return .notFound
        case .alreadyExists: return .conflict
        case .disabled, .revoked, .pending, .expired, .notPending: return .unavailable
        case .cannotCertifyCA, .importRejected: return .policy
        case .noStandbyKey: return .notFound
        case .nextRootAlreadyCertified: return .policy
        case .nextRootUnusable: return .unavailable
        }
    }

    public var description: String {
        switch self {
        case .notFound(let name):
            return "no CA named \(PolicyError.quoted(name)) in this store"
        case .alreadyExists(let name):
            return "a CA named \(PolicyError.quoted(name)) already exists"
        case .disabled(let name):
            return "CA \(name) is disabled: enable it or issue from another CA"
        case .revoked(let name):
            return "CA \(name) has been revoked: it publishes CRLs but cannot issue"
        case .pending(let name):
            return "CA \(name) has no certificate yet: import the certificate its issuer signed"
        case .expired(let name, let notAfter):
            return "CA \(name) expired on \(notAfter): it cannot issue"
        case .cannotCertifyCA(let parent, let reason):
            return "CA \(parent) cannot certify another CA: \(reason)"
        case .notPending(let name):
            return "CA \(name) is not waiting for a certificate: only an external CA still pending can be imported"
        case .noStandbyKey:
            return "this store has no standby root key to rotate to"
        case .nextRootAlreadyCertified(let name, let notAfter):
            return "\(name)'s certificate was made with its key, valid until \(notAfter), so that firmware can trust it before the rotation: rotate without a validity (that certificate becomes the root)"
        case .nextRootUnusable(let name, let reason):
            return "the next root \(name) cannot become the root: \(reason)"
        case .importRejected(let name, let reason):
            return "cannot import the certificate of CA \(name): \(reason)"
        }
    }
}

extension Authority.Status {
    /// Why a CA in this status may not issue (nil: it may). The plan asks it of the CA as it read
    /// it, the record again under the write lock, which `ca disable` takes exclusively.
    func refusalToIssue(_ name: String) -> AuthorityError? {
        switch self {
        case .active: nil
        case .pending: .pending(name)
        case .disabled: .disabled(name)
        case .revoked: .revoked(name)
        }
    }
}
