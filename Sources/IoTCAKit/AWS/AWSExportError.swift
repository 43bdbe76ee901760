/// Why `aws export` wrote nothing.
public enum AWSExportError: IoTCAError, Equatable {
    case invalid(String, String, reason: String)
    case invalidThingName(String)
    case tooLarge(String, size: Int, limit: Int)
    /// JITP names the thing and fills each parameter from the certificate's subject.
    case templateUnfitForJITP(template: String, reason: String)
    case certificateLacksParameter(thing: String, parameter: String)
    case notIssuedBy(thing: String, ca: String, issuer: String)
    case nothingToExport

    public var kind: ErrorKind {
        switch self {
        case .invalid, .invalidThingName, .tooLarge, .templateUnfitForJITP, .certificateLacksParameter, .notIssuedBy: return .policy
        case .nothingToExport: return .notFound
        }
    }

    public var description: String {
        switch self {
        case .invalid(let what, let value, let reason):
            return "\(PolicyError.quoted(value)) is not a valid \(what) for AWS IoT: \(reason)"
        case .invalidThingName(let name):
            return "\(PolicyError.quoted(name)) is not a valid AWS IoT thing name (1-128 of letters, digits, ':', '_' and '-')"
        case .tooLarge(let what, let size, let limit):
            return "\(what) is \(size) characters, over AWS IoT's limit of \(limit)"
        case .templateUnfitForJITP(let template, let reason):
            return "template \(template) cannot drive just-in-time provisioning: \(reason)"
        case .certificateLacksParameter(let thing, let parameter):
            return "the certificate of \(thing) has no \(parameter) in its subject, which the provisioning template declares: AWS would refuse to provision it"
        case .notIssuedBy(let thing, let ca, let issuer):
            return "the active certificate of \(thing) was issued by \(issuer), not by \(ca), the CA being registered"
        case .nothingToExport:
            return "nothing to export: ask for the CA's registration, certificates or revocations"
        }
    }
}
