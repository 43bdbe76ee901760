import Foundation

/// Finds templates by name or path: a path (containing `/` or ending in `.json`) is read as a
/// file; a bare name is looked up in the store's `templates/` folder first (operators' own
/// profiles), then among the built-in ones.
public struct TemplateCatalog: Sendable {
    public let storeTemplates: URL?

    public init(storeTemplates: URL?) {
        self.storeTemplates = storeTemplates
    }

    public static let builtinNames = BuiltinTemplates.sources.keys.sorted()

    public func template(_ nameOrPath: String) throws(PolicyError) -> Template {
        if nameOrPath.contains("/") || nameOrPath.hasSuffix(".json") {
            return try Self.load(URL(fileURLWithPath: nameOrPath))
        }
        try ThingName.validate(nameOrPath, kind: "template")
        if let storeTemplates {
            let file = storeTemplates.appendingPathComponent("\(nameOrPath).json")
            if FileManager.default.fileExists(atPath: file.path) { return try Self.load(file) }
        }
        guard let source = BuiltinTemplates.sources[nameOrPath] else { throw .templateNotFound(nameOrPath) }
        return try Template.parse(Data(source.utf8), source: "built-in template \(nameOrPath)")
    }

    /// Every template reachable by name: the store's, then the built-in ones they do not shadow.
    public func all() -> [(template: Result<Template, PolicyError>, origin: String)] {
        var seen = Set<String>()
        var entries: [(Result<Template, PolicyError>, String)] = []
        if let storeTemplates,
           let files = try? FileManager.default.contentsOfDirectory(at: storeTemplates, includingPropertiesForKeys: nil) {
            for file in files.sorted(by: { $0.lastPathComponent < $1.lastPathComponent }) where file.pathExtension == "json" {
                seen.insert(file.deletingPathExtension().lastPathComponent)
                entries.append((Result { () throws(PolicyError) in try Self.load(file) }, file.path))
            }
        }
        for name in Self.builtinNames where !seen.contains(name) {
            entries.append((Result { () throws(PolicyError) in try template(name) }, "built-in"))
        }
        return entries
    }

    static func load(_ file: URL) throws(PolicyError) -> Template {
        let data: Data
        do {
            data = try Data(contentsOf: file)
        } catch {
            throw .templateNotFound(file.path)
        }
        let template = try Template.parse(data, source: file.path)
        return template
    }
}
