/// What a station or claim may issue: certificates of one template, to things whose names
/// match a pattern (`*` any run of characters, `?` one character; the whole name must match),
/// from the CAs it names, with the extra subject alternative names its rules allow.
/// Written `TEMPLATE[:PATTERN][,ca=NAME]...[,san=TYPE:PATTERN]...[,wildcards]` on the command
/// line: no pattern means every thing; no `ca=` means the store's issuing CA (`issuing`); no
/// `san=` means exactly the template's names; `wildcards` lets a `san=dns:` rule cover
/// wildcard names too. As Vault PKI roles (allowed domains, issuer) and step-ca policies do.
public struct ClientGrant: Sendable, Hashable, Codable, CustomStringConvertible {
    public let template: String
    public let pattern: String
    /// The CAs it may issue from; empty means `defaultAuthority`.
    public let authorities: [String]
    /// Names a caller may add beyond the template's; empty means none.
    public let names: [NameRule]
    public let wildcards: Bool

    /// The CA a grant that names none may use: the one `init` makes for things.
    public static let defaultAuthority = "issuing"

    public init(template: String, pattern: String = "*", authorities: [String] = [], names: [NameRule] = [],
                wildcards: Bool = false) throws(PolicyError) {
        try ThingName.validate(template, kind: "template")
        guard !pattern.isEmpty, pattern.utf8.count <= 255,
              pattern.unicodeScalars.allSatisfy({ $0 == "*" || $0 == "?" || ThingName.allowed($0) }) else {
            throw .invalidValue("grant pattern \(pattern)",
                                reason: "use the characters of thing names (letters, digits, _ - : .) with * and ?")
        }
        for authority in authorities { try ThingName.validate(authority, kind: "CA") }
        self.template = template
        self.pattern = pattern
        self.authorities = Array(Set(authorities)).sorted()
        self.names = Array(Set(names)).sorted { $0.description < $1.description }
        self.wildcards = wildcards
    }

    /// `TEMPLATE[:PATTERN][,OPTION]...`.
    public init(parsing text: String) throws(PolicyError) {
        let head = text.prefix { $0 != "," }
        guard let colon = head.firstIndex(of: ":") else {
            try self.init(template: String(head), options: "*" + text.dropFirst(head.count))
            return
        }
        try self.init(template: String(head[..<colon]), options: String(head[head.index(after: colon)...]) + text.dropFirst(head.count))
    }

    /// A grant as the store keeps it: the template, and the rest of its text (`PATTERN,OPTION...`).
    init(template: String, options text: some StringProtocol) throws(PolicyError) {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
        let pattern = parts.first.map { String($0) } ?? ""
        var authorities: [String] = [], names: [NameRule] = [], wildcards = false
        for option in parts.dropFirst() {
            if option == "wildcards" {
                wildcards = true
            } else if option.hasPrefix("ca=") {
                authorities.append(String(option.dropFirst(3)))
            } else if option.hasPrefix("san=") {
                names.append(try NameRule(String(option.dropFirst(4))))
            } else {
                throw .invalidValue("grant option \(option)", reason: "options are ca=NAME, san=TYPE:PATTERN and wildcards")
            }
        }
        try self.init(template: template, pattern: pattern, authorities: authorities, names: names, wildcards: wildcards)
    }

    /// Everything after the template, as the store's `pattern` column keeps it.
    var storedPattern: String {
        ([pattern] + authorities.map { "ca=\($0)" } + names.map { "san=\($0)" } + (wildcards ? ["wildcards"] : []))
            .joined(separator: ",")
    }

    public var description: String { "\(template):\(storedPattern)" }

    /// In JSON a grant is its text, as the command line writes it.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do { try self.init(parsing: text) } catch { throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "\(error)")) }
    }

    /// The CAs this grant may issue from.
    public var allowedAuthorities: [String] { authorities.isEmpty ? [Self.defaultAuthority] : authorities }

    /// Whether the thing-name pattern matches `thing` (whatever the template).
    public func covers(thing: String) -> Bool { Self.matches(Array(pattern.utf8), Array(thing.utf8)) }

    /// Whether this grant covers issuing `template` to `thing`.
    public func allows(template: String, thing: String) -> Bool {
        template == self.template && covers(thing: thing)
    }

    /// Glob matching without backtracking blow-up: remembers the last `*` and retries from it.
    static func matches(_ pattern: [UInt8], _ text: [UInt8]) -> Bool {
        var p = 0, t = 0
        var star: Int?, resume = 0
        while t < text.count {
            if p < pattern.count && (pattern[p] == UInt8(ascii: "?") || pattern[p] == text[t]) {
                p += 1
                t += 1
            } else if p < pattern.count && pattern[p] == UInt8(ascii: "*") {
                star = p
                resume = t
                p += 1
            } else if let star {
                p = star + 1
                resume += 1
                t = resume
            } else {
                return false
            }
        }
        while p < pattern.count && pattern[p] == UInt8(ascii: "*") { p += 1 }
        return p == pattern.count
    }
}
