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

    /// A certificate a thing holds or held, as far as reach is concerned: its template and CA.
    public struct IssuedAs: Sendable, Hashable, CustomStringConvertible {
        public let template: String
        public let authority: String
        public init(template: String, authority: String) {
            self.template = template
            self.authority = authority
        }
        public var description: String { "\(template) (CA \(authority))" }
    }

    /// What a caller limited by grants may touch on one thing: certificates of a template and
    /// CA one of its grants for that thing covers.
    public struct Reach: Sendable {
        let grants: [ClientGrant]
        public func covers(_ issued: IssuedAs) -> Bool {
            grants.contains { $0.template == issued.template && $0.allowedAuthorities.contains(issued.authority) }
        }
    }

    /// What this caller may issue, renew or supersede on `thing`; nil for an operator (all).
    public func reach(thing: String) -> Reach? {
        guard !isOperator else { return nil }
        return Reach(grants: grants.filter { $0.covers(thing: thing) })
    }

    /// Whether this caller may read `template` certificates of `thing` (stations see what they
    /// could issue).
    public func mayRead(template: String, thing: String?) -> Bool {
        guard let thing else { return isOperator }
        guard let reach = reach(thing: thing) else { return true }
        return reach.grants.contains { $0.template == template }
    }

    /// Refuses a change to `thing` when it holds (or held) a certificate of a template or CA
    /// this caller could not have issued: a renewal or supersession would replace what it does
    /// not own (another tenant's CA included).
    public func requireReach(thing: String, history: Set<IssuedAs>) throws(AccessDenied) {
        guard let reach = reach(thing: thing) else { return }
        guard history.allSatisfy(reach.covers) else {
            // What exactly it holds is not said: the caller may not read it.
            throw AccessDenied(caller: description, reason: "touch \(thing): it holds or held certificates its grants do not cover")
        }
    }

    var grantsText: String { grants.isEmpty ? "none" : grants.map(\.description).joined(separator: ", ") }

    /// Whether this caller may issue `template` certificates to `thing` from `authority`,
    /// `history` being every certificate the thing holds or held. Operators may; others need a
    /// grant that covers template, thing and CA, and reach over the whole history. The names
    /// are checked once rendered (`authorizeNames`).
    /// - Throws: `AccessDenied`, naming what is outside the grants.
    public func authorizeIssuance(template: String, thing: String, authority: String, history: Set<IssuedAs>) throws(AccessDenied) {
        guard !isOperator else { return }
        let covering = grants.filter { $0.allows(template: template, thing: thing) }
        guard !covering.isEmpty else {
            throw AccessDenied(caller: description, reason: "issue \(template) certificates to \(thing) (its grants: \(grantsText))")
        }
        guard covering.contains(where: { $0.allowedAuthorities.contains(authority) }) else {
            let allowed = Set(covering.flatMap(\.allowedAuthorities)).sorted().joined(separator: ", ")
            throw AccessDenied(caller: description, reason: "issue from CA \(authority): its grants for \(thing) name \(allowed)")
        }
        try requireReach(thing: thing, history: history)
    }

    /// Whether every name of the certificate is this caller's to have: a grant's `san=` rules
    /// constrain every name of their type (the template's own included), and a name of a type
    /// no rule mentions is allowed only when the template renders it from the thing alone
    /// (`fixed`: not from attributes the caller sends, not an extra name).
    /// - Throws: `AccessDenied`.
    public func authorizeNames(template: String, thing: String, authority: String, names: [SubjectAltName],
                               fixed: [SubjectAltName]) throws(AccessDenied) {
        guard !isOperator else { return }
        let grants = self.grants.filter { $0.allows(template: template, thing: thing) && $0.allowedAuthorities.contains(authority) }
        for name in names {
            let isFixed = fixed.contains(name)
            let allowed = grants.contains { grant in
                let rules = grant.names.filter { $0.kind == name.kind }
                return rules.isEmpty ? isFixed : rules.contains { $0.allows(name, wildcards: grant.wildcards) }
            }
            guard allowed else {
                let rules = Set(grants.flatMap(\.names)).map(\.description).sorted()
                throw AccessDenied(caller: description, reason: "have the name \(name) in \(thing)'s certificate: "
                    + (rules.isEmpty ? "its grants allow the template's names only" : "its grants allow \(rules.joined(separator: ", "))"))
            }
        }
    }
}
