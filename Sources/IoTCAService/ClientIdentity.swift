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
    /// The shared store's facts epoch read with this request's standing (`ClientStanding`): for
    /// an issuance this request makes, never for a later one. Not part of what `whoami` shows.
    public var factsEpoch: FactsEpoch?

    enum CodingKeys: String, CodingKey { case role, name, serial, authority, grants }

    /// How audit events name the client: role, name and certificate serial.
    public var auditName: String { "\(role.rawValue):\(name):\(serial)" }

    /// The caller the library checks: an operator, or a station with its grants.
    public var caller: Caller {
        Caller(role: role == .operator ? .operator : .station, name: name, grants: grants)
    }

    /// Whether this client may read `entry`: operators everything, stations what they could issue.
    public func mayRead(_ entry: CertificateEntry) -> Bool {
        caller.mayRead(template: entry.template, thing: entry.thing)
    }
}
