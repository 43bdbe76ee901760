import Foundation
import SwiftASN1
import X509

/// Turns a template, a thing and a public key into a fully decided certificate: subject,
/// names, validity and extensions. The CSR, if any, contributed only the public key.
public struct IssuancePolicy: Sendable {
    /// How far notBefore is set back, so devices with slightly slow clocks accept a new
    /// certificate at once.
    public static let clockSkewAllowance: TimeInterval = 5 * 60

    public var template: Template
    public var thing: String
    public var organization: String
    public var attributes: [String: String]
    /// Names added on the command line (`--san`), after the template's.
    public var extraSubjectAltNames: [SubjectAltName]
    /// `--validity`; nil takes the template's, clipped to the issuer's notAfter.
    public var validity: ValidityPeriod?

    public init(template: Template, thing: String, organization: String, attributes: [String: String] = [:],
                extraSubjectAltNames: [SubjectAltName] = [], validity: ValidityPeriod? = nil) {
        self.template = template
        self.thing = thing
        self.organization = organization
        self.attributes = attributes
        self.extraSubjectAltNames = extraSubjectAltNames
        self.validity = validity
    }

    /// The part of the decision that does not depend on the key or the clock, so a batch
    /// computes it once per template.
    public struct Profile: Sendable {
        public let subject: DistinguishedName
        public let subjectAltNames: [SubjectAltName]
        /// As the store records them, rendered once.
        public let subjectText: String
        public let subjectAltNameTexts: [String]
        /// The template's validity, parsed once; nil for no well-defined expiration.
        let templateValidity: ValidityPeriod?
        /// The names the template renders from the thing, the organization and the CA alone: not
        /// from attributes a caller sends, and not asked for as extra names.
        public let thingNames: [SubjectAltName]

        init(subject: DistinguishedName, subjectAltNames: [SubjectAltName], templateValidity: ValidityPeriod?,
             thingNames: [SubjectAltName] = []) {
            self.subject = subject
            self.subjectAltNames = subjectAltNames
            self.thingNames = thingNames
            self.subjectText = DistinguishedNameText.text(subject)
            self.subjectAltNameTexts = subjectAltNames.map(\.description)
            self.templateValidity = templateValidity
        }
    }

    /// `issuer` is the signing CA's certificate (nil for a self-signed root): a Matter DAC takes
    /// its vendor and product IDs from it when the request names none.
    public func profile(issuerName: String, issuer: Certificate?) throws(PolicyError) -> Profile {
        let context = TemplateText.Context(thing: thing, org: organization, ca: issuerName, attributes: attributes)
        var subject = try Self.subject(template, context: context)
        if let role = template.matter {
            let identity = try MatterPolicy.identity(role: role, attributes: attributes, issuer: issuer)
            subject = DistinguishedName(Array(subject) + identity.subjectAttributes)
        }
        var names: [SubjectAltName] = [], thingNames: [SubjectAltName] = []
        for (index, text) in (template.subjectAltNames ?? []).enumerated() {
            let field = "subjectAltNames[\(index)]"
            let rendered = try TemplateText.render(text, context: context, template: template.name, field: field)
            do {
                let name = try SubjectAltName(rendered)
                names.append(name)
                if !text.contains("{{attr.") { thingNames.append(name) }
            } catch {
                throw .renderedFieldInvalid(template: template.name, field: field, reason: "\(error)")
            }
        }
        for name in extraSubjectAltNames where !names.contains(name) { names.append(name) }
        return Profile(subject: subject, subjectAltNames: names, templateValidity: try template.validityPeriod(),
                       thingNames: thingNames)
    }

    /// Decides the certificate for `publicKey`, issued by `issuer` (nil for a self-signed root).
    public func decide(publicKey: Certificate.PublicKey, issuerName: String, issuer: Certificate?,
                       now: Date, profile: Profile? = nil) throws(PolicyError) -> CertificateSpec {
        guard let algorithm = KeyAlgorithm(publicKey: publicKey) else {
            throw .invalidCSR(reason: "unsupported public key (accepted: \(KeyAlgorithm.namesForHelp))")
        }
        let allowed = template.allowedKeyTypes ?? KeyAlgorithm.allCases
        guard allowed.contains(algorithm) || algorithm == template.keyType else {
            throw .keyTypeNotAllowed(algorithm.rawValue, template: template.name)
        }
        try template.checkKeyUsage(for: algorithm, source: "template \(template.name)", field: "keyUsage")
        if let role = template.matter { try MatterPolicy.check(key: algorithm, issuer: issuer, role: role) }
        let decided: Profile
        if let profile { decided = profile } else { decided = try self.profile(issuerName: issuerName, issuer: issuer) }
        let (notBefore, notAfter) = try validityWindow(issuerName: issuerName, issuer: issuer, now: now,
                                                       templateValidity: decided.templateValidity)
        return CertificateSpec(
            serial: .random(), subject: decided.subject, publicKey: publicKey,
            notBefore: notBefore, notAfter: notAfter, isCA: template.ca, pathLength: template.pathLength,
            keyUsage: template.x509KeyUsage, extendedKeyUsage: template.x509ExtendedKeyUsage,
            subjectAltNames: decided.subjectAltNames, matter: template.matter)
    }

    func validityWindow(issuerName: String, issuer: Certificate?, now: Date,
                        templateValidity: ValidityPeriod?? = nil) throws(PolicyError) -> (Date, Date) {
        let period: ValidityPeriod?
        if let validity {
            period = validity
        } else if let templateValidity {
            period = templateValidity
        } else {
            period = try template.validityPeriod()
        }
        // Whole seconds: X.509 times carry no fractions, and the stored row must equal the DER.
        let start = (now.timeIntervalSince1970 - Self.clockSkewAllowance).rounded(.down)
        var notBefore = Date(timeIntervalSince1970: start)
        var notAfter = period.map { Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down) + $0.timeInterval) }
            ?? Self.noWellDefinedExpiration
        if let issuer {
            guard issuer.notValidAfter > now else { throw .issuerExpired(issuer: issuerName) }
            notBefore = max(notBefore, issuer.notValidBefore)
            if notAfter > issuer.notValidAfter {
                if let period = validity {
                    throw .validityBeyondIssuer(requested: period.text, issuer: issuerName,
                                                issuerNotAfter: Timestamp.format(issuer.notValidAfter))
                }
                notAfter = issuer.notValidAfter
            }
        }
        return (notBefore, notAfter)
    }

    /// 99991231235959Z (RFC 5280 4.1.2.5).
    static let noWellDefinedExpiration = Date(timeIntervalSince1970: 253_402_300_799)

    /// Upper bounds from X.520 / RFC 5280 Appendix A (ub-common-name etc.).
    static let subjectLimits: [String: Int] = [
        "commonName": 64, "organization": 64, "organizationalUnit": 64, "locality": 128,
        "stateOrProvince": 128, "serialNumber": 64, "country": 2,
    ]

    static func subject(_ template: Template, context: TemplateText.Context) throws(PolicyError) -> DistinguishedName {
        var rdns: [RelativeDistinguishedName] = []
        for (name, text) in template.subject.fields {
            let field = "subject.\(name)"
            let value = try TemplateText.render(text, context: context, template: template.name, field: field)
            func reject(_ reason: String) -> PolicyError {
                .renderedFieldInvalid(template: template.name, field: field, reason: "\(PolicyError.quoted(value)) \(reason)")
            }
            guard !value.isEmpty else { throw reject("is empty") }
            let limit = subjectLimits[name] ?? 64
            // Characters never outnumber UTF-8 bytes: count them only for long values.
            guard value.utf8.count <= limit || value.count <= limit else { throw reject("is longer than \(limit) characters") }
            // Control characters are single bytes in UTF-8, never inside a longer sequence.
            guard !value.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) else {
                throw reject("contains control characters")
            }
            let attribute: RelativeDistinguishedName.Attribute
            switch name {
            case "country":
                guard value.count == 2, value.allSatisfy({ $0.isASCII && $0.isUppercase }) else {
                    throw reject("is not a two-letter ISO 3166 country code such as FR")
                }
                attribute = try printable(.RDNAttributeType.countryName, value, reject)
            case "serialNumber":
                attribute = try printable([2, 5, 4, 5], value, reject)
            default:
                attribute = .init(type: oid(for: name), utf8String: value)
            }
            rdns.append(RelativeDistinguishedName(attribute))
        }
        return DistinguishedName(rdns)
    }

    private static func printable(_ type: ASN1ObjectIdentifier, _ value: String, _ reject: (String) -> PolicyError) throws(PolicyError) -> RelativeDistinguishedName.Attribute {
        do {
            return try .init(type: type, printableString: value)
        } catch {
            throw reject("has characters a PrintableString cannot hold")
        }
    }

    private static func oid(for field: String) -> ASN1ObjectIdentifier {
        switch field {
        case "organization": return .RDNAttributeType.organizationName
        case "organizationalUnit": return .RDNAttributeType.organizationalUnitName
        case "stateOrProvince": return .RDNAttributeType.stateOrProvinceName
        case "locality": return .RDNAttributeType.localityName
        default: return .RDNAttributeType.commonName
        }
    }
}
