/// What a station may issue: certificates of one template, to things whose names match a
/// pattern (`*` any run of characters, `?` one character; the whole name must match).
/// Written `TEMPLATE[:PATTERN]` on the command line; no pattern means every thing.
public struct ClientGrant: Sendable, Hashable, Codable, CustomStringConvertible {
    public let template: String
    public let pattern: String

    public init(template: String, pattern: String = "*") throws(PolicyError) {
        try ThingName.validate(template, kind: "template")
        guard !pattern.isEmpty, pattern.utf8.count <= 255,
              pattern.unicodeScalars.allSatisfy({ $0 == "*" || $0 == "?" || ThingName.allowed($0) }) else {
            throw .invalidValue("grant pattern \(pattern)",
                                reason: "use the characters of thing names (letters, digits, _ - : .) with * and ?")
        }
        self.template = template
        self.pattern = pattern
    }

    /// `TEMPLATE[:PATTERN]`.
    public init(parsing text: String) throws(PolicyError) {
        guard let colon = text.firstIndex(of: ":") else {
            try self.init(template: text)
            return
        }
        try self.init(template: String(text[..<colon]), pattern: String(text[text.index(after: colon)...]))
    }

    public var description: String { "\(template):\(pattern)" }

    /// Whether this grant covers issuing `template` to `thing`.
    public func allows(template: String, thing: String) -> Bool {
        template == self.template && Self.matches(Array(pattern.utf8), Array(thing.utf8))
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
