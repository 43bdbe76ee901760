/// RFC 5280 section 5.3.1 CRLReason, named as on the command line. certificateHold and
/// removeFromCRL are left out: iotca revocations are final.
public enum RevocationReason: String, CaseIterable, Codable, Sendable {
    case unspecified
    case keyCompromise = "key-compromise"
    case caCompromise = "ca-compromise"
    case affiliationChanged = "affiliation-changed"
    case superseded
    case cessationOfOperation = "cessation-of-operation"
    case privilegeWithdrawn = "privilege-withdrawn"
    case aaCompromise = "aa-compromise"

    /// The ENUMERATED value in the reasonCode CRL entry extension.
    public var code: UInt8 {
        switch self {
        case .unspecified: return 0
        case .keyCompromise: return 1
        case .caCompromise: return 2
        case .affiliationChanged: return 3
        case .superseded: return 4
        case .cessationOfOperation: return 5
        case .privilegeWithdrawn: return 9
        case .aaCompromise: return 10
        }
    }

    public static var namesForHelp: String { allCases.map(\.rawValue).joined(separator: ", ") }
}
