/// Who may call the service, told by the template of the client's certificate: a certificate
/// from any other template (a device's) may call nothing.
public enum ClientRole: String, Sendable, CaseIterable, Codable {
    /// A factory station: issues and renews within the grants the operator gave it, reads
    /// what it may issue.
    case station
    /// An operator: everything a station may, for every template and thing, and revokes,
    /// publishes CRLs, reads the audit log.
    case `operator`

    /// The built-in template whose certificates carry this role.
    public var template: String { rawValue }

    public init?(template: String) { self.init(rawValue: template) }
}

extension ClientRole {
    /// The template of the API's own TLS server certificate (`iotca serve`).
    public static let apiServerTemplate = "api-server"

    /// Templates whose certificates identify the service's clients or the service itself:
    /// station, operator, claim and the API's server. No grant, token or claim reaches them, so
    /// a station can neither make such a certificate nor renew, supersede or revoke one.
    public static func isServiceTemplate(_ name: String) -> Bool {
        ClientRole(template: name) != nil || name == "claim" || name == apiServerTemplate
    }
}
