import Foundation

/// Why a request was refused by policy. Each message names the input at fault.
public enum PolicyError: IoTCAError, Equatable {
    case invalidThingName(String, reason: String)
    case invalidAttribute(String, reason: String)
    case invalidDuration(String)
    case invalidSubjectAltName(String, reason: String)
    case invalidCSR(reason: String)
    case csrSignatureInvalid
    case keyTypeNotAllowed(String, template: String)
    case validityBeyondIssuer(requested: String, issuer: String, issuerNotAfter: String)
    case issuerExpired(issuer: String)
    case missingAttribute(String, template: String, field: String)
    case renderedFieldInvalid(template: String, field: String, reason: String)
    case invalidTemplate(source: String, field: String, reason: String)
    case templateNotFound(String)
    /// A value that is not a name, template or CSR (a URL, a time, an organization), named by
    /// what it is, not by how a front end spells it.
    case invalidValue(String, reason: String)
    /// A PKCS#12 bundle was asked for without a passphrase to encrypt it with.
    case bundlePassphraseMissing
    /// A batch row names a template its batch does not allow.
    case templateNotAllowed(String, batchTemplate: String)
    /// A Matter attestation certificate would break a rule of its profile (Matter §6.2.2).
    case outsideMatterProfile(rule: String)

    public var kind: ErrorKind {
        switch self {
        case .templateNotFound: return .notFound
        case .issuerExpired: return .unavailable
        default: return .policy
        }
    }

    public var description: String {
        switch self {
        case .invalidThingName(let name, let reason):
            return "invalid thing name \(Self.quoted(name)): \(reason)"
        case .invalidAttribute(let attribute, let reason):
            return "invalid attribute \(Self.quoted(attribute)): \(reason)"
        case .invalidDuration(let text):
            return "invalid duration \(Self.quoted(text)): use a number and a unit, e.g. 90d, 12h, 2w, 10y"
        case .invalidSubjectAltName(let text, let reason):
            return "invalid subject alternative name \(Self.quoted(text)): \(reason) (use dns:NAME, ip:ADDRESS, uri:URI or email:ADDRESS)"
        case .invalidCSR(let reason):
            return "invalid CSR: \(reason)"
        case .csrSignatureInvalid:
            return "the CSR's signature does not verify with its own public key (no proof of possession)"
        case .keyTypeNotAllowed(let key, let template):
            return "key type \(key) is not allowed by template \(template)"
        case .validityBeyondIssuer(let requested, let issuer, let notAfter):
            return "requested validity \(requested) ends after CA \(issuer) expires (\(notAfter)): ask for less"
        case .issuerExpired(let issuer):
            return "CA \(issuer) has expired: it cannot issue"
        case .missingAttribute(let attribute, let template, let field):
            return "template \(template) field \(field) needs attribute \(Self.quoted(attribute))"
        case .renderedFieldInvalid(let template, let field, let reason):
            return "template \(template) field \(field): \(reason)"
        case .invalidTemplate(let source, let field, let reason):
            return "\(source): field \(field): \(reason)"
        case .invalidValue(let field, let reason):
            return "\(field): \(reason)"
        case .bundlePassphraseMissing:
            return "a PKCS#12 bundle needs a bundle passphrase to encrypt it with"
        case .templateNotAllowed(let name, let batchTemplate):
            return "template \(Self.quoted(name)) is not allowed in this batch (it runs with template \(batchTemplate); other templates must be allowed explicitly)"
        case .outsideMatterProfile(let rule):
            return "outside the Matter attestation profile: \(rule)"
        case .templateNotFound(let name):
            return "no template named \(Self.quoted(name))"
        }
    }

    /// Quotes untrusted input for an error line, escaping control characters and truncating,
    /// so a hostile name cannot forge extra output lines or flood the terminal.
    static func quoted(_ text: String) -> String {
        var escaped = ""
        for scalar in text.unicodeScalars.prefix(80) {
            if scalar.value < 0x20 || scalar.value == 0x7F {
                escaped += String(format: "\\x%02X", scalar.value)
            } else {
                escaped.unicodeScalars.append(scalar)
            }
        }
        if text.unicodeScalars.count > 80 { escaped += "…(\(text.utf8.count) bytes)" }
        return "'\(escaped)'"
    }
}
