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
        for placeholder in try placeholders(in: text, source: source, field: field) {
            guard ["thing", "org", "ca"].contains(placeholder) || placeholder.hasPrefix("attr.") && placeholder.count > 5 else {
                throw .invalidTemplate(source: source, field: field, reason: "unknown placeholder {{\(placeholder)}} (use {{thing}}, {{org}}, {{ca}} or {{attr.KEY}})")
            }
        }
    }

    static func render(_ text: String, context: Context, template: String, field: String) throws(PolicyError) -> String {
        var output = ""
        var rest = Substring(text)
        while let open = rest.range(of: "{{") {
            output += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].range(of: "}}") else {
                throw .invalidTemplate(source: template, field: field, reason: "unclosed {{")
            }
            let name = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            switch name {
            case "thing": output += context.thing
            case "org": output += context.org
            case "ca": output += context.ca
            default:
                guard name.hasPrefix("attr.") else {
                    throw .invalidTemplate(source: template, field: field, reason: "unknown placeholder {{\(name)}}")
                }
                let key = String(name.dropFirst(5))
                guard let value = context.attributes[key] else {
                    throw .missingAttribute(key, template: template, field: field)
                }
                output += value
            }
            rest = rest[close.upperBound...]
        }
        return output + rest
    }

    private static func placeholders(in text: String, source: String, field: String) throws(PolicyError) -> [String] {
        var names: [String] = []
        var rest = Substring(text)
        while let open = rest.range(of: "{{") {
            guard let close = rest[open.upperBound...].range(of: "}}") else {
                throw .invalidTemplate(source: source, field: field, reason: "unclosed {{")
            }
            names.append(rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces))
            rest = rest[close.upperBound...]
        }
        return names
    }
}
