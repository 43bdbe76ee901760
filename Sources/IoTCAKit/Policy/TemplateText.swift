import Foundation

/// The `{{...}}` placeholders templates may use:
/// `{{thing}}` the thing name, `{{org}}` the store's organization, `{{ca}}` the issuing CA's
/// name, `{{attr.KEY}}` one of the thing's attributes.
enum TemplateText {
    struct Context {
        var thing: String
        var org: String
        var ca: String
        var attributes: [String: String]
    }

    static func checkPlaceholders(_ text: String, source: String, field: String) throws(PolicyError) {
        for case .placeholder(let placeholder) in try segments(of: text, source: source, field: field) {
            guard ["thing", "org", "ca"].contains(placeholder) || placeholder.hasPrefix("attr.") && placeholder.count > 5 else {
                throw .invalidTemplate(source: source, field: field, reason: "unknown placeholder {{\(placeholder)}} (use {{thing}}, {{org}}, {{ca}} or {{attr.KEY}})")
            }
        }
    }

    static func render(_ text: String, context: Context, template: String, field: String) throws(PolicyError) -> String {
        var output = ""
        for segment in try segments(of: text, source: template, field: field) {
            switch segment {
            case .literal(let literal): output += literal
            case .placeholder("thing"): output += context.thing
            case .placeholder("org"): output += context.org
            case .placeholder("ca"): output += context.ca
            case .placeholder(let name):
                guard name.hasPrefix("attr.") else {
                    throw .invalidTemplate(source: template, field: field, reason: "unknown placeholder {{\(name)}}")
                }
                let key = String(name.dropFirst(5))
                guard let value = context.attributes[key] else {
                    throw .missingAttribute(key, template: template, field: field)
                }
                output += value
            }
        }
        return output
    }

    enum Segment: Equatable {
        case literal(String)
        /// The name between `{{` and `}}`, without surrounding spaces and tabs.
        case placeholder(String)
    }

    /// Splits `text` at its placeholders. Scans bytes: Foundation's range(of:) and trimming
    /// cost microseconds per field, and a batch renders every template field of every row.
    static func segments(of text: String, source: String, field: String) throws(PolicyError) -> [Segment] {
        let bytes = Array(text.utf8)
        func find(_ brace: UInt8, from start: Int) -> Int? {
            var index = start
            while index + 1 < bytes.count {
                if bytes[index] == brace && bytes[index + 1] == brace { return index }
                index += 1
            }
            return nil
        }
        func isBlank(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 }
        var segments: [Segment] = []
        var position = 0
        while let open = find(UInt8(ascii: "{"), from: position) {
            guard let close = find(UInt8(ascii: "}"), from: open + 2) else {
                throw .invalidTemplate(source: source, field: field, reason: "unclosed {{")
            }
            if open > position { segments.append(.literal(String(decoding: bytes[position..<open], as: UTF8.self))) }
            var lower = open + 2, upper = close
            while lower < upper && isBlank(bytes[lower]) { lower += 1 }
            while upper > lower && isBlank(bytes[upper - 1]) { upper -= 1 }
            segments.append(.placeholder(String(decoding: bytes[lower..<upper], as: UTF8.self)))
            position = close + 2
        }
        if position < bytes.count { segments.append(.literal(String(decoding: bytes[position...], as: UTF8.self))) }
        return segments
    }
}
