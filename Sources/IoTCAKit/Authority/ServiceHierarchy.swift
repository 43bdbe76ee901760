import Foundation

/// The CAs of the service's own identities, apart from the devices' hierarchy: `service-root`
/// (self-signed) and `service` below it (pathLen 0), which alone issues station, operator and
/// claim certificates and the API's TLS server certificate (`api-server`), and issues nothing
/// else. So brokers, which trust the devices' root, never admit a service client, and clients
/// of the API, which trust `service-root` alone, never accept a server certificate that a
/// station could obtain (those come from the devices' CAs). `init` makes both; an older store
/// gets them with `ca create-service`.
public enum ServiceHierarchy {
    public static let rootName = "service-root"
    public static let caName = "service"

    /// Names users cannot give CAs of their own: the service's trust hangs on them.
    public static func isReserved(_ name: String) -> Bool { name == rootName || name == caName }

    /// Whether `authority` is the service's issuing CA (named so, below the service root).
    public static func isServiceCA(_ authority: Authority) -> Bool {
        authority.name == caName && authority.parentName == rootName
    }

    /// Refuses a certificate of `template` from `authority` unless both are the service's or
    /// neither is.
    static func check(template: String, authority: Authority) throws(PolicyError) {
        let serviceTemplate = ClientRole.isServiceTemplate(template)
        let serviceCA = isServiceCA(authority)
        if serviceTemplate && !serviceCA {
            throw .invalidValue("CA \(authority.name)", reason: "\(template) certificates identify the service or its clients and come from CA \(caName) alone (brokers trust the devices' CAs and must not admit them)")
        }
        if serviceCA && !serviceTemplate {
            throw .invalidValue("CA \(authority.name)", reason: "it issues only station, operator, claim and api-server certificates: issue \(template) certificates from a devices' CA such as issuing")
        }
    }
}

extension AuthorityManager {
    /// Makes `service-root` and `service` (see `ServiceHierarchy`). A run killed between the
    /// two left the root alone: running it again makes the CA below it.
    /// - Throws: `AuthorityError.alreadyExists` (conflict) when `service` exists, `KeyError`.
    @discardableResult
    public func createServiceHierarchy(keyType: KeyAlgorithm, token: PKCS11URI? = nil, now time: Date? = nil) throws
        -> (root: Authority, service: Authority) {
        let now = time ?? store.clock.now()
        if (try? store.authority(named: ServiceHierarchy.caName)) != nil { throw AuthorityError.alreadyExists(ServiceHierarchy.caName) }
        let root: Authority
        if let existing = try? store.authority(named: ServiceHierarchy.rootName), existing.kind == .root {
            root = existing
        } else {
            root = try createRoot(ServiceHierarchy.rootName, keyType: keyType, token: token, now: now, reserved: true)
        }
        let service = try createSubordinate(ServiceHierarchy.caName, parent: ServiceHierarchy.rootName, keyType: keyType,
                                            token: token, now: now, reserved: true)
        // This node made the root: its pin is the one anchor of the service's clients here.
        if let der = root.certificateDER { try ServiceRootPin(folder: store.layout.root).write(der) }
        return (root, service)
    }

    /// A self-signed root CA (`init`'s `root`, the service root).
    func createRoot(_ name: String, keyType: KeyAlgorithm, validity: ValidityPeriod? = nil, token: PKCS11URI?, now: Date,
                    reserved: Bool = false, template templateName: String = "root-ca", attributes: [String: String] = [:]) throws -> Authority {
        try checkNewName(name, reserved: reserved)
        let template = try caTemplate(templateName, attributes: attributes)
        if let role = template.matter { try MatterPolicy.check(key: keyType, issuer: nil, role: role) }
        let policy = IssuancePolicy(template: template, thing: name, organization: try store.organization(), attributes: attributes,
                                    validity: validity)
        let profile = try policy.profile(issuerName: name, issuer: nil)
        let key = try keyring.newCAKey(keyType, name: name, token: token)
        let spec = try policy.decide(publicKey: key.publicKey, issuerName: name, issuer: nil, now: now, profile: profile)
        let issued = try key.selfSign(spec)
        return try record(.init(
            name: name, kind: .root, parentName: nil, status: .active, keyAlgorithm: key.algorithm,
            keyFile: StoreLayout.newKeyFile(for: name), keyEncrypted: try keyring.encryptsKeys(), issued: issued,
            template: template.name, csrDER: nil, subject: issued.subject.description), key: key, now: now)
    }
}
