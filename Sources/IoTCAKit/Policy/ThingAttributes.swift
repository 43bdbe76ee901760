/// Free-form key=value facts about a thing (`--attr model=m4 --attr site=lyon`) that
/// templates can render into subjects and SANs with `{{attr.KEY}}`.
public enum ThingAttributes {
    public static func parse(_ pairs: [String]) throws(PolicyError) -> [String: String] {
        var attributes: [String: String] = [:]
        for pair in pairs {
            guard let equals = pair.firstIndex(of: "=") else {
                throw .invalidAttribute(pair, reason: "write it as key=value")
            }
            let key = String(pair[..<equals])
            let value = String(pair[pair.index(after: equals)...])
            try validate(key: key, value: value)
            attributes[key] = value
        }
        return attributes
    }

    public static func validate(key: String, value: String) throws(PolicyError) {
        guard !key.isEmpty, key.utf8.count <= 64,
              key.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_" || $0 == "-" })
        else {
            throw .invalidAttribute(key, reason: "keys are 1-64 letters, digits, _ or -")
        }
        guard value.utf8.count <= 256 else { throw .invalidAttribute(key, reason: "value longer than 256 bytes") }
        guard !value.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw .invalidAttribute(key, reason: "value contains control characters")
        }
    }
}
