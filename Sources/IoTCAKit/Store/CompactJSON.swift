/// JSON for the store's small text columns (audit details, attributes, SAN lists): sorted keys,
/// no spaces, RFC 8259 escaping. JSONEncoder costs more than the rest of a batch row's insert.
enum CompactJSON {
    static func object(_ dictionary: [String: String]) -> String {
        "{" + dictionary.keys.sorted().map { "\(string($0)):\(string(dictionary[$0] ?? ""))" }.joined(separator: ",") + "}"
    }

    static func array(_ values: [String]) -> String {
        "[" + values.map(string).joined(separator: ",") + "]"
    }

    static func string(_ value: String) -> String {
        // Names, serials and hashes need no escaping: skip the per-scalar walk for them.
        if value.utf8.allSatisfy({ $0 >= 0x20 && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }) {
            return "\"" + value + "\""
        }
        var output = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case "\u{0}"..."\u{1F}": output += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count) + String(scalar.value, radix: 16)
            default: output.unicodeScalars.append(scalar)
            }
        }
        return output + "\""
    }
}
