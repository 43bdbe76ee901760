import Foundation

/// Where a key lives in a token, as RFC 7512 writes it:
/// `pkcs11:token=LABEL;object=LABEL;id=%01%02;type=private?module-path=/usr/lib/...so`. The store
/// keeps a token CA's whole URI (with the module's path) where a file CA keeps its key file's
/// name. Only the attributes iotca uses are kept; a PIN in the URI (`pin-value`) is refused,
/// since a command line or a store row is no place for it.
public struct PKCS11URI: Sendable, Equatable, CustomStringConvertible {
    public var token: String?
    public var object: String?
    public var id: [UInt8]?
    /// The module (the token vendor's library) that reaches the token.
    public var modulePath: String?

    public init(token: String?, object: String? = nil, id: [UInt8]? = nil, modulePath: String? = nil) {
        self.token = token
        self.object = object
        self.id = id
        self.modulePath = modulePath
    }

    /// Whether a stored key location is a token's (else a key file's name).
    public static func isURI(_ text: String) -> Bool { text.hasPrefix("pkcs11:") }

    /// - Throws: `PKCS11Error.invalidURI`.
    public init(parsing text: String) throws(PKCS11Error) {
        guard text.hasPrefix("pkcs11:") else { throw .invalidURI(text, reason: "it must start with pkcs11:") }
        let body = text.dropFirst("pkcs11:".count)
        let path = body.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        if path.count == 2 {
            for attribute in path[1].split(separator: "&") {
                if attribute.hasPrefix("pin-value=") {
                    throw .invalidURI(text, reason: "a PIN does not go into the URI: give it in a file or the environment")
                }
                if attribute.hasPrefix("module-path="), let value = Self.percentDecoded(attribute.dropFirst("module-path=".count)) {
                    modulePath = String(decoding: value, as: UTF8.self)
                }
            }
        }
        for attribute in path[0].split(separator: ";") where !attribute.isEmpty {
            let parts = attribute.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, let value = Self.percentDecoded(parts[1]) else {
                throw .invalidURI(text, reason: "\(attribute) is not NAME=VALUE with %XX escapes")
            }
            switch parts[0] {
            case "token": token = String(decoding: value, as: UTF8.self)
            case "object": object = String(decoding: value, as: UTF8.self)
            case "id": id = value
            case "type":
                guard value == Array("private".utf8) else { throw .invalidURI(text, reason: "a CA key is type=private") }
            case "manufacturer", "model", "serial", "library-manufacturer", "library-description", "library-version", "slot-id",
                 "slot-description", "slot-manufacturer":
                continue
            default:
                throw .invalidURI(text, reason: "unknown attribute \(parts[0])")
            }
        }
        guard token != nil else { throw .invalidURI(text, reason: "name the token (token=LABEL)") }
    }

    public var description: String {
        var parts: [String] = []
        if let token { parts.append("token=" + Self.percentEncoded(Array(token.utf8))) }
        if let object { parts.append("object=" + Self.percentEncoded(Array(object.utf8))) }
        if let id { parts.append("id=" + id.map { String(format: "%%%02x", $0) }.joined()) }
        parts.append("type=private")
        let query = modulePath.map { "?module-path=" + Self.percentEncoded(Array($0.utf8), keeping: "/") } ?? ""
        return "pkcs11:" + parts.joined(separator: ";") + query
    }

    /// Where the key is, without the module's path: for messages and `ca show`.
    public var withoutModule: String {
        var copy = self
        copy.modulePath = nil
        return copy.description
    }

    /// RFC 7512 §2.3: unreserved characters and a few more stay, everything else is %XX.
    static func percentEncoded(_ bytes: [UInt8], keeping extra: String = "") -> String {
        let allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~:[]@!$'()*+,=&".utf8).union(extra.utf8)
        return bytes.map { allowed.contains($0) ? String(UnicodeScalar($0)) : String(format: "%%%02X", $0) }.joined()
    }

    static func percentDecoded(_ text: Substring) -> [UInt8]? {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%") {
                guard let high = iterator.next(), let low = iterator.next(), let value = Hex.decode([high, low])?.first else { return nil }
                bytes.append(value)
            } else {
                bytes.append(byte)
            }
        }
        return bytes
    }
}
