import IoTCAKit

/// The caller of an API request, as its certificate and the store say: a station with its
/// grants, or an operator.
public struct ClientIdentity: Sendable, Equatable, Encodable {
    public let role: ClientRole
    /// The client's thing name (`station create NAME`).
    public let name: String
    public let serial: String
    public let authority: String
    public let grants: [ClientGrant]

    /// How audit events name the client: role, name and certificate serial.
    public var auditName: String { "\(role.rawValue):\(name):\(serial)" }

    /// Whether this client may issue (or renew) `template` certificates to `thing`.
    public func mayIssue(template: String, thing: String) -> Bool {
        switch role {
        case .operator: true
        case .station: grants.contains { $0.allows(template: template, thing: thing) }
        }
    }

    /// Whether this client may read `entry`: operators everything, stations what they could issue.
    public func mayRead(_ entry: CertificateEntry) -> Bool {
        guard let thing = entry.thing else { return role == .operator }
        return mayIssue(template: entry.template, thing: thing)
    }
}
