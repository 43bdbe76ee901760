public enum SigningError: IoTCAError, Equatable {
    /// A certificate description that a CA must not sign (Boulder-style lint before signing).
    case lintFailed(String)
    case keyDoesNotMatchCertificate(authority: String)
    case signatureFailed(String)
    /// What was signed is not what was decided (a writer bug): nothing was released.
    case releaseCheckFailed(String)
    /// The signed certificate breaks a rule of the profile its template names (Matter's): it
    /// was not released.
    case outsideProfile(PolicyError)

    public var kind: ErrorKind {
        switch self {
        case .lintFailed, .outsideProfile: return .policy
        case .keyDoesNotMatchCertificate: return .store
        case .signatureFailed, .releaseCheckFailed: return .internalError
        }
    }

    public var description: String {
        switch self {
        case .lintFailed(let reason): return "refusing to sign: \(reason)"
        case .keyDoesNotMatchCertificate(let authority):
            return "the key file of CA \(authority) does not match its certificate: the store is inconsistent"
        case .signatureFailed(let detail): return "signing failed: \(detail)"
        case .outsideProfile(let error): return error.description
        case .releaseCheckFailed(let what):
            return "internal error: the signed certificate differs from what was decided (\(what)); it was not released: please report this"
        }
    }
}
