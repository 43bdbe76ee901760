/// Why a revocation or a CRL publication was refused.
public enum RevocationError: IoTCAError, Equatable {
    case alreadyRevoked(serial: String, at: String, reason: String)
    case noActiveCertificate(thing: String)
    case ambiguousSerial(String, authorities: [String])
    case rootNotRevocable(String)
    case invalidReason(String)

    public var kind: ErrorKind {
        switch self {
        case .alreadyRevoked: return .conflict
        case .noActiveCertificate: return .notFound
        case .ambiguousSerial, .rootNotRevocable, .invalidReason: return .policy
        }
    }

    public var description: String {
        switch self {
        case .alreadyRevoked(let serial, let at, let reason):
            return "certificate \(serial) was already revoked at \(at) (\(reason)): nothing changed"
        case .noActiveCertificate(let thing):
            return "thing \(PolicyError.quoted(thing)) has no active certificate to revoke"
        case .ambiguousSerial(let serial, let authorities):
            return "serial \(serial) was issued by several CAs (\(authorities.joined(separator: ", "))): name the CA"
        case .rootNotRevocable(let name):
            return "\(name) is a self-signed root: it cannot be put on a CRL; disable it and distribute a new root instead"
        case .invalidReason(let text):
            return "unknown revocation reason \(PolicyError.quoted(text)) (use \(RevocationReason.namesForHelp))"
        }
    }
}
