import Foundation
import SwiftASN1
import X509

/// One subject alternative name as written on the command line and in templates:
/// `dns:NAME`, `ip:ADDRESS`, `uri:URI`, `email:ADDRESS`.
public struct SubjectAltName: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable { case dns, ip, uri, email }
    public let kind: Kind
    public let value: String

    public init(_ text: String) throws(PolicyError) {
        guard let colon = text.firstIndex(of: ":"),
              let kind = Kind(rawValue: text[..<colon].lowercased()) else {
            throw .invalidSubjectAltName(text, reason: "unknown or missing type prefix")
        }
        let value = String(text[text.index(after: colon)...])
        guard !value.isEmpty else { throw .invalidSubjectAltName(text, reason: "empty value") }
        guard value.utf8.count <= 253 || kind == .uri, value.utf8.count <= 2048 else {
            throw .invalidSubjectAltName(text, reason: "too long")
        }
        // Bytes of multi-byte UTF-8 sequences are all 0x80 or above: a byte check is a scalar check.
        guard value.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw .invalidSubjectAltName(text, reason: "only printable ASCII without spaces is allowed (IA5String)")
        }
        switch kind {
        case .dns:
            guard Self.isDNSName(value) else {
                throw .invalidSubjectAltName(text, reason: "not a DNS name (letters, digits, '-' labels of 1-63 characters; '*.' only as the first label)")
            }
        case .ip:
            guard Self.ipBytes(value) != nil else { throw .invalidSubjectAltName(text, reason: "not an IPv4 or IPv6 address") }
        case .uri:
            // RFC 3986: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), then ":". (ASCII, checked above.)
            func isLetter(_ byte: UInt8) -> Bool { (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) }
            let scheme = value.utf8.prefix { $0 != UInt8(ascii: ":") }
            guard scheme.count < value.utf8.count, let first = scheme.first, isLetter(first),
                  scheme.allSatisfy({ isLetter($0) || (0x30...0x39).contains($0) || $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") }) else {
                throw .invalidSubjectAltName(text, reason: "a URI needs a scheme, e.g. urn:... or https://...")
            }
        case .email:
            let parts = value.split(separator: "@", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, Self.isDNSName(String(parts[1])) else {
                throw .invalidSubjectAltName(text, reason: "not an email address")
            }
        }
        self.kind = kind
        self.value = kind == .dns ? value.lowercased() : value
    }

    public var description: String { "\(kind.rawValue):\(value)" }

    var generalName: GeneralName {
        switch kind {
        case .dns: return .dnsName(value)
        case .uri: return .uniformResourceIdentifier(value)
        case .email: return .rfc822Name(value)
        case .ip: return .ipAddress(ASN1OctetString(contentBytes: ArraySlice(Self.ipBytes(value) ?? [])))
        }
    }

    static func isDNSName(_ name: String) -> Bool {
        var labels = name.split(separator: ".", omittingEmptySubsequences: false)
        if labels.first == "*" && labels.count > 2 { labels.removeFirst() }
        guard !labels.isEmpty, name.utf8.count <= 253 else { return false }
        return labels.allSatisfy { label in
            !label.isEmpty && label.utf8.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
        }
    }

    static func ipBytes(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { Array($0) }
        }
        return nil
    }
}
