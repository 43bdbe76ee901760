import Foundation

/// Why a device may not enrol or re-enrol (EST). A missing token and a wrong secret are one
/// case, so an answer never tells a guesser which things have tokens.
public enum EnrolmentError: IoTCAError, Equatable {
    case invalidCredentials(thing: String)
    case expired(thing: String, at: Date)
    /// Re-enrolment: the request must name what the current certificate names (RFC 7030 4.2.2).
    case subjectMismatch(reason: String)
    /// Re-enrolment: the current certificate is not one the store holds as active.
    case notRenewable(reason: String)

    public var kind: ErrorKind { .policy }

    public var description: String {
        switch self {
        case .invalidCredentials(let thing):
            "no valid enrolment token for \(thing): ask the operator for a new one"
        case .expired(let thing, let at):
            "the enrolment token for \(thing) expired at \(Timestamp.format(at)): ask the operator for a new one"
        case .subjectMismatch(let reason):
            "a re-enrolment must ask for the current certificate's names: \(reason)"
        case .notRenewable(let reason):
            "this certificate cannot re-enrol: \(reason)"
        }
    }
}
