import Crypto
import Foundation
import X509

/// A one-time enrolment secret, as `iotca enrol-token` prints it once.
public struct EnrolmentToken: Sendable, Encodable, Equatable {
    public let thing: String
    public let template: String
    public let secret: String
    public let expiresAt: Date

    enum CodingKeys: String, CodingKey {
        case thing, template, secret
        case expiresAt = "expires_at"
    }
}

/// Devices that enrol and renew themselves (EST, RFC 7030): the operations behind
/// `/.well-known/est/simpleenroll` and `simplereenroll`, the same issuance every other front
/// door uses. The service decides who is asking (HTTP Basic or the TLS client certificate);
/// these decide whether that may enrol.
extension CertificateAuthority {
    /// How long an enrolment token is good for unless told.
    public static let defaultTokenLifetime: TimeInterval = 7 * 86_400

    /// `iotca enrol-token THING`: a new one-time secret for `thing` to enrol with `template`,
    /// replacing one not yet spent. Only its SHA-256 is stored; the secret is returned once.
    /// - Throws: `PolicyError` (thing name, a template that is not a device's, lifetime).
    /// With `cmp` (the default) the secret itself is kept too, until spent: a CMP MAC needs it at both ends.
    public func createEnrolmentToken(thing: String, template: String = "device", expires: ValidityPeriod? = nil,
                                     cmp: Bool = true) throws -> EnrolmentToken {
        try ThingName.validate(thing)
        // The thing is the HTTP Basic user name, which ends at the first colon (RFC 7617 2).
        guard !thing.contains(":") else {
            throw PolicyError.invalidValue("thing \(thing)", reason: "a thing that enrols with a token cannot have ':' in its name (HTTP Basic ends the user name there): rename it")
        }
        let checked = try TemplateCatalog(store: store).template(template)
        guard !checked.ca, !ClientRole.isServiceTemplate(checked.name) else {
            throw PolicyError.invalidValue("template \(template)", reason: "devices enrol with end-entity templates, not CA, station, operator or claim ones")
        }
        let lifetime = expires.map { TimeInterval($0.seconds) } ?? Self.defaultTokenLifetime
        guard lifetime > 0, lifetime <= 366 * 86_400 else {
            throw PolicyError.invalidValue("expires", reason: "a token lives from a minute to a year")
        }
        // 192 bits, base64url: safe in a URL, an HTTP Basic password and a shell argument.
        let secret = Data(SecureRandom.bytes(24)).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        let now = store.clock.now()
        let expiresAt = Date(timeIntervalSince1970: (now.timeIntervalSince1970 + lifetime).rounded(.down))
        try store.putEnrolmentToken(EnrolmentTokenRow(thing: thing, template: checked.name, secretSHA256: Self.digest(secret),
                                                      expiresAt: expiresAt, createdAt: now, macSecret: cmp ? secret : nil))
        return EnrolmentToken(thing: thing, template: checked.name, secret: secret, expiresAt: expiresAt)
    }

    /// EST simpleenroll with a token: spends it, then issues `thing` a certificate for the CSR's
    /// key (renewing, when the thing already holds one: the token holder is who the operator
    /// named). The token is spent before the issuance, so one secret never enrols twice; if
    /// the issuance fails it is put back.
    /// - Throws: `EnrolmentError` (credentials, expiry), `PolicyError` (CSR, a label naming
    ///   another template), the issuance's errors.
    public func enrol(thing: String, secret: String, csr: [UInt8], template label: String? = nil) throws -> IssueResult {
        try enrol(thing: thing, secret: secret, key: .csr(csr), template: label)
    }

    func enrol(thing: String, secret: String, key: RequestedKey, template label: String?) throws -> IssueResult {
        let now = store.clock.now()
        let token = try store.spendEnrolmentToken(thing: thing, secretSHA256: Self.digest(secret), now: now) { token in
            if let label, label != token.template {
                throw PolicyError.invalidValue("EST label \(label)", reason: "the token of \(thing) enrols with template \(token.template)")
            }
            // A request that is no request, or is not signed by its key, never spends the token.
            if case .csr(let csr) = key { _ = try CSRCheck.publicKey(fromRequest: csr) }
        }
        do {
            let renew = try !store.activeSerials(thing: thing).isEmpty
            // The token holder is the thing the operator named, for that template alone: it may
            // not replace a certificate of another template the thing holds.
            return try issue(key.request(IssueRequest(thing: thing, template: token.template, renew: renew,
                                                      caller: try .device(thing, template: token.template))),
                             into: URL(fileURLWithPath: "/"), format: .json)
        } catch {
            try? store.restoreEnrolmentToken(token)
            throw error
        }
    }

    /// `iotca claim create NAME --grant TEMPLATE:PATTERN`: a claim certificate (AWS IoT's fleet
    /// provisioning by claim), shared by a batch of devices, that may only enrol things whose
    /// names its grants cover. Revoke it to end the batch's enrolment.
    /// - Throws: `PolicyError` (grants), the issuance's errors.
    public func createClaim(_ name: String, grants: [ClientGrant], ca: String = ServiceHierarchy.caName, into output: URL,
                            format: BundleFormat = .dir) throws -> IssueResult {
        guard !grants.isEmpty else { throw PolicyError.invalidValue("grants", reason: "a claim needs at least one TEMPLATE:PATTERN it may enrol") }
        try checkGrants(grants, role: .station)
        let result = try issue(IssueRequest(thing: name, authority: ca, template: Self.claimTemplate), into: output, format: format)
        try store.setGrants(grants, of: name)
        return result
    }

    /// The built-in template of claim certificates.
    public static let claimTemplate = "claim"

    /// EST simpleenroll with a claim certificate in the TLS handshake (`claim`, DER, its chain
    /// already validated by the caller): the thing is the CSR's common name, which the claim's
    /// grants must cover for the template; a thing that has ever had a certificate (revoked
    /// ones included) is refused unless an operator re-opened it (`reopen`): a claim makes new
    /// things, and a stolen claim key must not re-enrol a device revoked for key compromise.
    /// - Throws: `EnrolmentError` (not an active claim), `PolicyError` (CSR, outside the
    ///   grants), `IssuanceConflict`, the issuance's errors.
    public func enrol(claim der: [UInt8], csr: [UInt8], template label: String? = nil) throws -> IssueResult {
        let request = try Self.parseRequest(csr)
        guard let thing = request.subject.commonNames.first else {
            throw PolicyError.invalidCSR(reason: "a request made with a claim names its thing as the subject's common name")
        }
        return try enrol(claim: der, thing: thing, key: .csr(csr), template: label)
    }

    func enrol(claim der: [UInt8], thing: String, key: RequestedKey, template label: String?) throws -> IssueResult {
        let certificate: Certificate
        do { certificate = try Certificate(derEncoded: der) } catch { throw EnrolmentError.notRenewable(reason: "the claim certificate does not parse") }
        let serial = SerialNumber(certificate.serialNumber)
        guard let standing = try store.clientStanding(serial: serial, der: der), standing.template == Self.claimTemplate,
              let claim = standing.thing else {
            throw EnrolmentError.invalidCredentials(thing: "certificate \(serial.hex)")
        }
        guard standing.status == .active, standing.authorityStatus == .active || standing.authorityStatus == .disabled else {
            throw EnrolmentError.notRenewable(reason: "claim \(claim) (\(serial.hex)) is revoked")
        }
        let template = label ?? "device"
        let caller = Caller(role: .claim, name: claim, grants: try store.grants(of: claim))
        guard caller.grants.contains(where: { $0.allows(template: template, thing: thing) }) else {
            throw AccessDenied(caller: caller.description, reason: "enrol \(template) certificates to \(thing) (its grants: \(caller.grantsText))")
        }
        let opened = try !store.history(thing: thing).isEmpty
        if opened {
            guard try store.spendClaimOpening(thing) else {
                throw AccessDenied(caller: caller.description,
                                   reason: "enrol \(thing): it has had certificates, and only an operator can re-open it for a claim")
            }
        }
        do {
            // The front end's own client (a CMP transaction) stays beside the claim's name.
            return try AuditEvent.$client.withValue("claim:\(claim):\(serial.hex)" + (AuditEvent.client.map { " " + $0 } ?? "")) {
                try issue(key.request(IssueRequest(thing: thing, template: template, renew: opened, caller: caller)),
                          into: URL(fileURLWithPath: "/"), format: .json)
            }
        } catch {
            if opened { try? store.restoreClaimOpening(thing, at: store.clock.now()) }
            throw error
        }
    }

    /// `thing reopen THING`: lets a claim enrol `thing` once more although it has had
    /// certificates (a device reset in the field, after the operator looked at why), audited.
    /// - Throws: `CertificateNotFound` (the thing never had a certificate: a claim may enrol it
    ///   already), `StoreError`.
    public func reopen(thing: String, caller: Caller = .local) throws {
        try caller.requireOperator(to: "re-open things")
        try ThingName.validate(thing)
        guard try !store.history(thing: thing).isEmpty else { throw CertificateNotFound(selector: thing) }
        try store.openForClaim(thing, at: store.clock.now())
    }

    /// EST simplereenroll: `current` (DER, its chain already validated by the caller) renews
    /// itself. It must be an active, unexpired device certificate of this store; the request
    /// must ask for its subject and, if it names any, its subject alternative names (RFC 7030
    /// 4.2.2). The new certificate is for the same thing and template, whatever the CSR says;
    /// the current one stays valid for the template's `renewalGrace` (default a day), then is
    /// revoked as superseded: a device that lost the answer can still connect and try again.
    /// - Throws: `EnrolmentError` (not renewable, names differ), `PolicyError` (CSR, a label
    ///   naming another template), the issuance's.
    public func reenrol(current der: [UInt8], csr: [UInt8], template label: String? = nil) throws -> IssueResult {
        let request = try Self.parseRequest(csr)
        let names = (try? request.attributes.extensionRequest?.extensions.subjectAlternativeNames) ?? nil
        return try reenrol(current: der, key: .csr(csr), subject: request.subject, subjectAltNames: names, template: label)
    }

    /// Re-enrolment with the key `key`, asking for `subject` (which must be the current one's)
    /// and, when not nil, `subjectAltNames` (which must be the current one's too).
    /// With `supersede` false (a CMP key update awaiting its confirmation) the current
    /// certificate is not scheduled for supersession yet: the confirmation does that.
    func reenrol(current der: [UInt8], key: RequestedKey, subject: DistinguishedName?, subjectAltNames requested: SubjectAlternativeNames?,
                 template label: String?, supersede: Bool = true) throws -> IssueResult {
        let certificate: Certificate
        do { certificate = try Certificate(derEncoded: der) } catch { throw EnrolmentError.notRenewable(reason: "the certificate does not parse") }
        let serial = SerialNumber(certificate.serialNumber)
        guard let standing = try store.clientStanding(serial: serial, der: der) else {
            throw EnrolmentError.notRenewable(reason: "certificate \(serial.hex) is not one this store issued")
        }
        guard standing.status == .active else { throw EnrolmentError.notRenewable(reason: "certificate \(serial.hex) is revoked") }
        guard !standing.awaitingConfirmation else {
            throw EnrolmentError.notRenewable(reason: "certificate \(serial.hex) awaits its CMP confirmation")
        }
        let now = store.clock.now()
        guard certificate.notValidBefore <= now, now < certificate.notValidAfter else {
            throw EnrolmentError.notRenewable(reason: "certificate \(serial.hex) is not valid now")
        }
        guard let thing = standing.thing, !ClientRole.isServiceTemplate(standing.template) else {
            throw EnrolmentError.notRenewable(reason: "certificate \(serial.hex) is not a device's")
        }
        // A label names the template, as for an enrolment: renewing under another is refused.
        if let label, label != standing.template {
            throw PolicyError.invalidValue("EST label \(label)", reason: "certificate \(serial.hex) is of template \(standing.template)")
        }
        if let subject, subject != certificate.subject {
            throw EnrolmentError.subjectMismatch(reason: "the request's subject \(subject) is not \(certificate.subject)")
        }
        if let requested {
            let current = (try? certificate.extensions.subjectAlternativeNames) ?? nil
            guard requested == current else {
                throw EnrolmentError.subjectMismatch(reason: "the request's subject alternative names differ from the certificate's")
            }
        }
        let caller = try Caller.device(thing, template: standing.template, authority: standing.authority)
        var renewal = IssueRequest(thing: thing, authority: standing.authority, template: standing.template, renew: true, caller: caller)
        renewal.factsEpoch = standing.factsEpoch  // read just now, with the standing
        let result = try issue(key.request(renewal), into: URL(fileURLWithPath: "/"), format: .json)
        if supersede { try supersedeAfterGrace(serial: serial, authority: standing.authority, template: standing.template, now: now) }
        return result
    }

    /// Schedules a renewed certificate to be revoked as superseded once its template's
    /// `renewalGrace` (default a day) has passed, and revokes what earlier renewals left due.
    func supersedeAfterGrace(serial: SerialNumber, authority: String, template: String, now: Date) throws {
        let grace = (try? TemplateCatalog(store: store).template(template))?.renewalGraceSeconds ?? 86_400
        try store.scheduleSupersession(serial: serial, authority: authority, due: now.addingTimeInterval(TimeInterval(grace)))
        // What earlier renewals left due goes now (besides cron and the service's timer).
        _ = try? RevocationService(keyring: keyring).supersedeDue()
    }

    /// The chain of CA `name` up to its root, as EST's `cacerts` hands it out.
    /// - Throws: `AuthorityError.notFound`, `StoreError`.
    public func chain(of name: String) throws -> CertificateChain {
        try store.chain(of: try store.authority(named: name))
    }

    /// The request itself, for the names in it (CSRCheck proves its key when it is issued).
    static func parseRequest(_ csr: [UInt8]) throws(PolicyError) -> CertificateSigningRequest {
        do {
            return try CertificateSigningRequest(derEncoded: PEM.firstBlock(in: csr)?.der ?? csr)
        } catch {
            throw .invalidCSR(reason: "not a PKCS#10 certificate request (PEM or DER)")
        }
    }

    static func digest(_ secret: String) -> String { Array(SHA256.hash(data: Array(secret.utf8))).hexString }
}

/// The key a device asks to have certified: in a PKCS#10 request (proven when it is issued),
/// or already proven by the protocol that carried it (a CRMF proof of possession).
enum RequestedKey: Sendable {
    case csr([UInt8])
    case proven(Certificate.PublicKey)

    func request(_ request: IssueRequest) -> IssueRequest {
        var request = request
        switch self {
        case .csr(let csr): request.csr = csr
        case .proven(let key): request.provenKey = key
        }
        return request
    }
}

extension DistinguishedName {
    /// The common names, in order (a CSR made with a claim names its thing there).
    var commonNames: [String] {
        flatMap { $0 }.filter { $0.type == .RDNAttributeType.commonName }.compactMap { attribute in
            String(describing: attribute.value).isEmpty ? nil : String(describing: attribute.value)
        }
    }
}
