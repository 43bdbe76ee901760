import Foundation
import SwiftASN1
import X509

/// A certificate profile: what a certificate for a thing looks like. Templates are data
/// (JSON files, like cfssl profiles and step-ca templates); the CSR never overrides them.
public struct Template: Codable, Sendable, Equatable {
    public struct Subject: Codable, Sendable, Equatable {
        public var commonName: String?
        public var organization: String?
        public var organizationalUnit: String?
        public var country: String?
        public var stateOrProvince: String?
        public var locality: String?
        public var serialNumber: String?

        public init(commonName: String? = nil, organization: String? = nil) {
            self.commonName = commonName
            self.organization = organization
        }
    }

    public var name: String
    public var description: String?
    /// Key generated for a thing when it brings no CSR.
    public var keyType: KeyAlgorithm
    /// Key types accepted from a CSR; nil accepts every type iotca supports.
    public var allowedKeyTypes: [KeyAlgorithm]?
    public var validity: String
    public var subject: Subject
    public var subjectAltNames: [String]?
    public var keyUsage: [String]
    public var extendedKeyUsage: [String]?
    /// True for CA certificates (basicConstraints cA).
    public var ca: Bool
    /// basicConstraints pathLenConstraint; only for CA templates.
    public var pathLength: Int?
    /// How long a certificate replaced by a device's own renewal (EST re-enrolment) stays valid
    /// before it is revoked as superseded (a duration, default 1d): a device that lost the
    /// answer can still connect and try again.
    public var renewalGrace: String?
    /// Prepare the key that will succeed each generated key (`next-key.pem` in the bundle), so
    /// clients that pin this certificate's key can pin its successor as a backup (servers).
    public var nextKey: Bool?
    /// Which names any caller (the CLI included) may add beyond the template's own, as
    /// `NameRule`s (`dns:*.plant-7.example.com`, `ip:10.7.0.0/16`); nil leaves it to the caller's
    /// grants (an operator may add any name, a station only what its grants allow).
    public var allowedSubjectAltNames: [String]?
    /// The certificate's place in Matter's device attestation PKI: the template then follows
    /// that profile (`MatterPolicy`), and the subject carries the vendor and product IDs.
    public var matter: MatterRole?

    /// `validity` that writes notAfter 99991231235959Z, "no well-defined expiration" (RFC 5280
    /// 4.1.2.5), as Matter's attestation certificates may.
    public static let noExpiration = "forever"

    public init(name: String, description: String?, keyType: KeyAlgorithm, allowedKeyTypes: [KeyAlgorithm]?, validity: String,
                subject: Subject, subjectAltNames: [String]?, keyUsage: [String], extendedKeyUsage: [String]?,
                ca: Bool, pathLength: Int?, renewalGrace: String? = nil) {
        self.name = name
        self.description = description
        self.keyType = keyType
        self.allowedKeyTypes = allowedKeyTypes
        self.validity = validity
        self.subject = subject
        self.subjectAltNames = subjectAltNames
        self.keyUsage = keyUsage
        self.extendedKeyUsage = extendedKeyUsage
        self.ca = ca
        self.pathLength = pathLength
        self.renewalGrace = renewalGrace
    }

    /// The validity as a period; nil for `forever` (notAfter 99991231235959Z).
    func validityPeriod() throws(PolicyError) -> ValidityPeriod? {
        validity == Self.noExpiration ? nil : try ValidityPeriod(validity)
    }

    /// `renewalGrace` in seconds.
    public var renewalGraceSeconds: Int64 {
        renewalGrace.flatMap { try? ValidityPeriod($0) }?.seconds ?? 86_400
    }

    static let knownFields: Set<String> = [
        "name", "description", "keyType", "allowedKeyTypes", "validity", "subject",
        "subjectAltNames", "keyUsage", "extendedKeyUsage", "ca", "pathLength", "renewalGrace",
        "nextKey", "allowedSubjectAltNames", "matter",
    ]
    static let knownSubjectFields: Set<String> = [
        "commonName", "organization", "organizationalUnit", "country", "stateOrProvince",
        "locality", "serialNumber",
    ]
    static let keyUsageNames: [String] = [
        "digitalSignature", "nonRepudiation", "contentCommitment", "keyEncipherment",
        "dataEncipherment", "keyAgreement", "keyCertSign", "cRLSign",
    ]
    static let extendedKeyUsageNames: [String: ExtendedKeyUsage.Usage] = [
        "serverAuth": .serverAuth, "clientAuth": .clientAuth, "codeSigning": .codeSigning,
        "emailProtection": .emailProtection, "timeStamping": .timeStamping, "ocspSigning": .ocspSigning,
    ]

    /// The X.509 key usage the template names.
    var x509KeyUsage: KeyUsage {
        var usage = KeyUsage()
        for name in keyUsage {
            switch name {
            case "digitalSignature": usage.digitalSignature = true
            case "nonRepudiation", "contentCommitment": usage.nonRepudiation = true
            case "keyEncipherment": usage.keyEncipherment = true
            case "dataEncipherment": usage.dataEncipherment = true
            case "keyAgreement": usage.keyAgreement = true
            case "keyCertSign": usage.keyCertSign = true
            case "cRLSign": usage.cRLSign = true
            default: break  // validate() has refused unknown names
            }
        }
        return usage
    }

    /// The X.509 extended key usages the template names, by name or dotted OID.
    var x509ExtendedKeyUsage: [ExtendedKeyUsage.Usage] {
        (extendedKeyUsage ?? []).compactMap(Self.extendedKeyUsage(named:))
    }

    static func extendedKeyUsage(named name: String) -> ExtendedKeyUsage.Usage? {
        if let known = extendedKeyUsageNames[name] { return known }
        guard name.contains("."), let oid = try? ASN1ObjectIdentifier(dotRepresentation: name) else { return nil }
        return ExtendedKeyUsage.Usage(oid: oid)
    }

    /// Parses and validates a template. `source` names the file in every error message.
    public static func parse(_ data: Data, source: String) throws(PolicyError) -> Template {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw .invalidTemplate(source: source, field: "(file)", reason: "not valid JSON")
        }
        guard let fields = object as? [String: Any] else {
            throw .invalidTemplate(source: source, field: "(file)", reason: "the top level must be a JSON object")
        }
        // Decoding alone ignores unknown keys; a typo like "extendedKeyUsages" must not
        // silently issue certificates without the EKU the author meant.
        for key in fields.keys.sorted() where !knownFields.contains(key) {
            throw .invalidTemplate(source: source, field: key, reason: "unknown field (known: \(knownFields.sorted().joined(separator: ", ")))")
        }
        if let subject = fields["subject"] as? [String: Any] {
            for key in subject.keys.sorted() where !knownSubjectFields.contains(key) {
                throw .invalidTemplate(source: source, field: "subject.\(key)", reason: "unknown subject field (known: \(knownSubjectFields.sorted().joined(separator: ", ")))")
            }
        }
        let template: Template
        do {
            template = try JSONDecoder().decode(Template.self, from: data)
        } catch let DecodingError.keyNotFound(key, context) {
            throw .invalidTemplate(source: source, field: Self.path(context.codingPath + [key]), reason: "required field is missing")
        } catch let DecodingError.typeMismatch(type, context) {
            throw .invalidTemplate(source: source, field: Self.path(context.codingPath), reason: "expected \(Self.describe(type))")
        } catch let DecodingError.valueNotFound(type, context) {
            throw .invalidTemplate(source: source, field: Self.path(context.codingPath), reason: "expected \(Self.describe(type)), found null")
        } catch let DecodingError.dataCorrupted(context) {
            let field = Self.path(context.codingPath)
            if field == "keyType" || field.hasPrefix("allowedKeyTypes") {
                throw .invalidTemplate(source: source, field: field, reason: "unknown key type (use \(KeyAlgorithm.namesForHelp))")
            }
            throw .invalidTemplate(source: source, field: field, reason: context.debugDescription)
        } catch {
            throw .invalidTemplate(source: source, field: "(file)", reason: "\(error)")
        }
        try template.validate(source: source)
        return template
    }

    /// Checks values that JSON types cannot: names, units, and combinations RFC 5280 forbids.
    public func validate(source: String) throws(PolicyError) {
        func fail(_ field: String, _ reason: String) -> PolicyError {
            .invalidTemplate(source: source, field: field, reason: reason)
        }
        do { try ThingName.validate(name, kind: "template") } catch { throw fail("name", "\(error)") }
        do { _ = try validityPeriod() } catch { throw fail("validity", "\(error) (or \(Self.noExpiration) for Matter templates)") }
        if validity == Self.noExpiration && matter == nil {
            throw fail("validity", "\(Self.noExpiration) is for Matter attestation templates (\"matter\"), whose chains are checked at the device's notBefore; give a duration")
        }
        if let renewalGrace {
            do { _ = try ValidityPeriod(renewalGrace) } catch { throw fail("renewalGrace", "\(error)") }
        }
        guard !keyUsage.isEmpty else { throw fail("keyUsage", "at least one key usage is required") }
        for (index, usage) in keyUsage.enumerated() where !Self.keyUsageNames.contains(usage) {
            throw fail("keyUsage[\(index)]", "unknown key usage '\(usage)' (known: \(Self.keyUsageNames.joined(separator: ", ")))")
        }
        for (index, usage) in (extendedKeyUsage ?? []).enumerated() where Self.extendedKeyUsage(named: usage) == nil {
            throw fail("extendedKeyUsage[\(index)]", "unknown extended key usage '\(usage)' (known: \(Self.extendedKeyUsageNames.keys.sorted().joined(separator: ", ")), or a dotted OID)")
        }
        let signsCertificates = keyUsage.contains("keyCertSign")
        if ca && !signsCertificates { throw fail("keyUsage", "a CA template needs keyCertSign") }
        if !ca && signsCertificates { throw fail("keyUsage", "keyCertSign is only for CA templates (set \"ca\": true)") }
        if !ca && pathLength != nil { throw fail("pathLength", "only CA templates have a path length") }
        if ca && nextKey == true { throw fail("nextKey", "only end-entity templates prepare a next key (CA keys roll with rotate-root)") }
        if let pathLength, pathLength < 0 { throw fail("pathLength", "must be 0 or more") }
        if ca && extendedKeyUsage?.isEmpty == false {
            // Fine per RFC 5280, but it restricts what the CA can issue in many verifiers.
            throw fail("extendedKeyUsage", "CA templates must not restrict extended key usage")
        }
        for (index, rule) in (allowedSubjectAltNames ?? []).enumerated() {
            do { _ = try NameRule(rule) } catch { throw fail("allowedSubjectAltNames[\(index)]", "\(error)") }
        }
        for (index, san) in (subjectAltNames ?? []).enumerated() {
            try TemplateText.checkPlaceholders(san, source: source, field: "subjectAltNames[\(index)]")
        }
        for (field, value) in subject.fields {
            try TemplateText.checkPlaceholders(value, source: source, field: "subject.\(field)")
        }
        if subject.commonName == nil && (subjectAltNames ?? []).isEmpty {
            throw fail("subject", "needs a commonName or at least one subjectAltName")
        }
        try checkKeyUsage(for: keyType, source: source, field: "keyType")
        if let matter { try MatterPolicy.validate(self, role: matter, source: source) }
        for (index, allowed) in (allowedKeyTypes ?? []).enumerated() {
            try checkKeyUsage(for: allowed, source: source, field: "allowedKeyTypes[\(index)]")
        }
    }

    /// The template's name rules (validated when the template was parsed).
    var nameRules: [NameRule]? { allowedSubjectAltNames.map { $0.compactMap { try? NameRule($0) } } }

    /// keyEncipherment needs an RSA key, keyAgreement an EC key (RFC 5480, RFC 8410).
    func checkKeyUsage(for key: KeyAlgorithm, source: String, field: String) throws(PolicyError) {
        if keyUsage.contains("keyEncipherment") && !key.isRSA {
            throw .invalidTemplate(source: source, field: field, reason: "\(key.rawValue) cannot be used with keyUsage keyEncipherment (RSA only)")
        }
        if keyUsage.contains("keyAgreement") && !key.isEC {
            throw .invalidTemplate(source: source, field: field, reason: "\(key.rawValue) cannot be used with keyUsage keyAgreement (EC only)")
        }
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        keys.reduce(into: "") { path, key in
            if let index = key.intValue { path += "[\(index)]" } else { path += path.isEmpty ? key.stringValue : ".\(key.stringValue)" }
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Bool.Type: return "true or false"
        case is Int.Type: return "a whole number"
        case is [String].Type, is [KeyAlgorithm].Type: return "a list of strings"
        default: return "a \(type)"
        }
    }
}

extension Template.Subject {
    /// The fields that are set, in the order they appear in the subject DN.
    var fields: [(String, String)] {
        [("country", country), ("stateOrProvince", stateOrProvince), ("locality", locality),
         ("organization", organization), ("organizationalUnit", organizationalUnit),
         ("commonName", commonName), ("serialNumber", serialNumber)]
            .compactMap { name, value in value.map { (name, $0) } }
    }
}
