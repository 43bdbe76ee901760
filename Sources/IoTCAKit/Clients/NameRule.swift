/// Which subject alternative names a grant or a template lets a caller add to a certificate,
/// beyond the names its template renders: `dns:*.plant-7.example.com` (names below that
/// domain), `dns:gw.example.com` (that name), `ip:10.7.0.0/16` (a range; an address alone is
/// /32 or /128), `uri:https://plant-7.example.com/*` and `email:*@plant-7.example.com` (globs:
/// `*` any run, `?` one character). The model is Vault's `allowed_domains` with
/// `allow_subdomains` and step-ca's `x509.allow` per name type: a name no rule covers is
/// refused, never dropped silently.
public struct NameRule: Sendable, Hashable, CustomStringConvertible {
    public let kind: SubjectAltName.Kind
    public let pattern: String
    /// For `ip:`: the network's bytes and prefix length.
    private let network: (bytes: [UInt8], prefix: Int)?

    public init(_ text: String) throws(PolicyError) {
        guard let colon = text.firstIndex(of: ":"), let kind = SubjectAltName.Kind(rawValue: text[..<colon].lowercased()) else {
            throw .invalidValue("name rule \(text)", reason: "write TYPE:PATTERN with a type of dns, ip, uri or email")
        }
        let pattern = String(text[text.index(after: colon)...])
        guard !pattern.isEmpty, pattern.utf8.count <= 1_024, pattern.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }), !pattern.contains(",") else {
            throw .invalidValue("name rule \(text)", reason: "the pattern is empty, too long, or holds spaces, commas or non-ASCII characters")
        }
        self.kind = kind
        switch kind {
        case .dns:
            let exact = pattern.hasPrefix("*.") ? String(pattern.dropFirst(2)) : pattern
            guard !exact.contains("*"), SubjectAltName.isDNSName(exact) else {
                throw .invalidValue("name rule \(text)", reason: "a DNS rule is a name, or *. and a domain for the names below it")
            }
            self.pattern = pattern.lowercased()
            network = nil
        case .ip:
            let parts = pattern.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count <= 2, let bytes = SubjectAltName.ipBytes(String(parts[0])) else {
                throw .invalidValue("name rule \(text)", reason: "an IP rule is an address or ADDRESS/PREFIX")
            }
            let prefix = parts.count == 2 ? Int(parts[1]) : bytes.count * 8
            guard let prefix, (0...bytes.count * 8).contains(prefix) else {
                throw .invalidValue("name rule \(text)", reason: "the prefix length must be 0 to \(bytes.count * 8)")
            }
            self.pattern = pattern
            network = (bytes, prefix)
        case .uri, .email:
            self.pattern = pattern
            network = nil
        }
    }

    public var description: String { "\(kind.rawValue):\(pattern)" }

    public static func == (lhs: NameRule, rhs: NameRule) -> Bool { lhs.description == rhs.description }
    public func hash(into hasher: inout Hasher) { hasher.combine(description) }

    /// Whether this rule covers `name`. A wildcard DNS name (`*.x.example.com`) is covered only
    /// when `wildcards` is true and the rule covers the domain it stands for, so a rule for the
    /// names below a domain never grants a certificate for all of them at once by itself.
    public func allows(_ name: SubjectAltName, wildcards: Bool = false) -> Bool {
        guard name.kind == kind else { return false }
        switch kind {
        case .dns:
            var value = name.value
            if value.hasPrefix("*.") {
                guard wildcards else { return false }
                // Stands for every name one label deeper: covered where one such name is.
                value = "x." + String(value.dropFirst(2))
            }
            if pattern.hasPrefix("*.") {
                let domain = pattern.dropFirst(1)  // ".example.com"
                return value.hasSuffix(domain) && value.count > domain.count
            }
            return value == pattern
        case .ip:
            guard let network, let bytes = SubjectAltName.ipBytes(name.value), bytes.count == network.bytes.count else { return false }
            var left = network.prefix
            for index in bytes.indices where left > 0 {
                let bits = min(8, left)
                let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
                if bytes[index] & mask != network.bytes[index] & mask { return false }
                left -= bits
            }
            return true
        case .uri, .email:
            return ClientGrant.matches(Array(pattern.utf8), Array(name.value.utf8))
        }
    }
}
