import Foundation
import X509

/// What `iotca issue` asks for.
public struct IssueRequest: Sendable {
    public var thing: String
    public var authority: String
    public var template: String
    public var validity: ValidityPeriod?
    public var subjectAltNames: [SubjectAltName]
    public var attributes: [String: String]
    /// A PKCS#10 request (PEM or DER); nil generates the key.
    public var csr: [UInt8]?
    /// Issue although the thing has an active certificate, and replace its bundle folder.
    public var renew: Bool
    /// Replace an existing bundle folder even without `renew`.
    public var force: Bool
    /// With `renew`: revoke the thing's previous certificates (superseded) once the new one is recorded.
    public var supersede: Bool
    /// With `renew` and no CSR: which key the new certificate certifies.
    public var renewalKey: RenewalKey
    /// Who asks: checked against the template, thing, CA, names and the thing's certificates.
    public var caller: Caller
    /// The shared store's facts epoch as this request's own read of its caller's standing
    /// returned it moments ago (`ClientStanding.factsEpoch`); nil for every other caller. The
    /// plan then uses the CA's facts this process read under the same epoch, if it holds them,
    /// instead of reading them again (`Store.issuanceFacts`). Never an epoch from an earlier
    /// request: a CA disabled since must be seen.
    public var factsEpoch: FactsEpoch?
    /// A Matter Certification Declaration to put in the bundle (matter format only).
    public var certificationDeclaration: [UInt8]?
    /// A key whose holder a protocol proved otherwise (a CRMF proof of possession), instead
    /// of a CSR; set only by the library's own enrolment paths.
    var provenKey: Certificate.PublicKey?

    public init(thing: String, authority: String = "issuing", template: String = "device", validity: ValidityPeriod? = nil,
                subjectAltNames: [SubjectAltName] = [], attributes: [String: String] = [:], csr: [UInt8]? = nil,
                renew: Bool = false, force: Bool = false, supersede: Bool = false, renewalKey: RenewalKey = .next,
                caller: Caller = .local) {
        self.thing = thing
        self.authority = authority
        self.template = template
        self.validity = validity
        self.subjectAltNames = subjectAltNames
        self.attributes = attributes
        self.csr = csr
        self.renew = renew
        self.force = force
        self.supersede = supersede
        self.renewalKey = renewalKey
        self.caller = caller
    }
}

public struct IssueResult: Sendable {
    public var entry: CertificateEntry
    public let bundle: Bundle
    /// Where the bundle was written; nil for the json format.
    public let location: URL?
    public var folder: URL { location ?? URL(fileURLWithPath: "/dev/null") }
    /// The previous certificates revoked by `supersede`.
    public var superseded: [SerialNumber] = []

    public init(entry: CertificateEntry, bundle: Bundle, location: URL?, superseded: [SerialNumber] = []) {
        self.entry = entry
        self.bundle = bundle
        self.location = location
        self.superseded = superseded
    }
}
