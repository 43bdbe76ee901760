/// Who calls a library operation, with what it was granted. Every front door names one (the
/// CLI on the CA host is `local`; the service names the client its TLS certificate proved, EST
/// the device or claim), and the operation checks it against everything it reads or changes:
/// the template and thing it would issue, the CA, the names, and every certificate the thing
/// already holds, which a renewal or supersession would replace. The check sits in the
/// library, so a new route cannot forget it.
public struct Caller: Sendable, Equatable, CustomStringConvertible {
    public enum Role: String, Sendable, Codable {
        /// The operator at the CA host (the CLI with the store): may do everything.
        case local
        /// An operator certificate through the service: may do everything the API offers.
        case `operator`
        /// A factory station: issues within its grants.
        case station
        /// A claim certificate shared by a batch of devices: enrols new things within its grants.
        case claim
        /// A device: enrols with its one-time token, or renews itself.
        case device
    }

    public let role: Role
    public let name: String
    public let grants: [ClientGrant]

    public init(role: Role, name: String, grants: [ClientGrant] = []) {
        self.role = role
        self.name = name
        self.grants = grants
    }

    public static let local = Caller(role: .local, name: "local")

    /// A device that may issue exactly its own thing with its own template, from `authority`.
    /// - Throws: `PolicyError` when the names are not valid.
    public static func device(_ thing: String, template: String, authority: String = ClientGrant.defaultAuthority) throws(PolicyError) -> Caller {
        // A thing name has no `*` or `?`, so as a pattern it matches itself alone.
        Caller(role: .device, name: thing, grants: [try ClientGrant(template: template, pattern: thing, authorities: [authority])])
    }

    /// Operators (local or through the service) are not limited by grants.
    public var isOperator: Bool { role == .local || role == .operator }

    public var description: String { role == .local ? "the local operator" : "\(role.rawValue) \(name)" }

    /// Refuses anyone but an operator: revocation, CRL publication, the audit log.
    public func requireOperator(to action: String) throws(AccessDenied) {
        guard isOperator else { throw AccessDenied(caller: description, reason: "\(action): that is an operator's action") }
    }

    /// The templates of certificates this caller may issue, renew or supersede for `thing`;
    /// nil for an operator (all of them).
    public func reachableTemplates(thing: String) -> Set<String>? {
        guard !isOperator else { return nil }
        return Set(grants.filter { $0.covers(thing: thing) }.map(\.template))
    }

    /// Whether this caller may read `template` certificates of `thing` (stations see what they
    /// could issue).
    public func mayRead(template: String, thing: String?) -> Bool {
        guard let thing else { return isOperator }
        return reachableTemplates(thing: thing)?.contains(template) ?? true
    }

    /// Refuses a change to `thing` when it holds (or held) certificates of a template this
    /// caller could not have issued: a renewal or supersession would replace what it does not own.
    public func requireReach(thing: String, history: Set<String>) throws(AccessDenied) {
        guard let reachable = reachableTemplates(thing: thing) else { return }
        let outside = history.subtracting(reachable)
        guard outside.isEmpty else {
            throw AccessDenied(caller: description,
                               reason: "touch \(thing): it holds or held \(outside.sorted().joined(separator: ", ")) certificates, which its grants do not cover")
        }
    }

    var grantsText: String { grants.isEmpty ? "none" : grants.map(\.description).joined(separator: ", ") }

    /// Whether this caller may issue `template` certificates to `thing` from `authority`, with
    /// `extraNames` beyond the template's, `history` being the templates of every certificate the
    /// thing holds or held. Operators may; others need one grant that covers it all.
    /// - Throws: `AccessDenied`, naming what is outside the grants.
    public func authorizeIssuance(template: String, thing: String, authority: String, extraNames: [SubjectAltName],
                                  history: Set<String>) throws(AccessDenied) {
        guard !isOperator else { return }
        let covering = grants.filter { $0.allows(template: template, thing: thing) }
        guard !covering.isEmpty else {
            throw AccessDenied(caller: description, reason: "issue \(template) certificates to \(thing) (its grants: \(grantsText))")
        }
        let fromAuthority = covering.filter { $0.allowedAuthorities.contains(authority) }
        guard !fromAuthority.isEmpty else {
            let allowed = Set(covering.flatMap(\.allowedAuthorities)).sorted().joined(separator: ", ")
            throw AccessDenied(caller: description, reason: "issue from CA \(authority): its grants for \(thing) name \(allowed)")
        }
        for name in extraNames {
            guard fromAuthority.contains(where: { grant in grant.names.contains { $0.allows(name, wildcards: grant.wildcards) } }) else {
                let rules = Set(fromAuthority.flatMap(\.names)).map(\.description).sorted()
                throw AccessDenied(caller: description, reason: "add the name \(name) to \(thing)'s certificate: "
                    + (rules.isEmpty ? "its grants allow the template's names only" : "its grants allow \(rules.joined(separator: ", "))"))
            }
        }
        try requireReach(thing: thing, history: history)
    }
}
