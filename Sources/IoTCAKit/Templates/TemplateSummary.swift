/// One line of `template list`: a template reachable by name, or a file that does not parse.
public struct TemplateSummary: Sendable, Encodable, Equatable {
    /// Empty for a file that does not parse.
    public let name: String
    /// `built-in`, or the file's path.
    public let origin: String
    public let description: String?
    /// Why the file does not parse.
    public let error: String?
}

extension TemplateCatalog {
    /// Every template reachable by name (the store's first, then the built-in ones), with the
    /// files that do not parse named rather than skipped.
    public func summaries() -> [TemplateSummary] {
        all().map { result, origin in
            switch result {
            case .success(let template):
                TemplateSummary(name: template.name, origin: origin, description: template.description, error: nil)
            case .failure(let error):
                TemplateSummary(name: "", origin: origin, description: nil, error: error.description)
            }
        }
    }
}
