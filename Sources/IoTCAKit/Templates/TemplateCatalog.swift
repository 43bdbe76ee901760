import Foundation

/// Finds templates by name or path: a path (containing `/` or ending in `.json`) is read as a
/// file; a bare name is looked up in the store's `templates/` folder first (operators' own
/// profiles), then among the built-in ones.
public struct TemplateCatalog: Sendable {
    /// The store's own templates (`templates/NAME.json`): its folder, or the shared database.
    let files: (any StoreFiles)?

    init(files: (any StoreFiles)?) {
        self.files = files
    }

    /// The catalog of `store`.
    public init(store: Store) { files = store.files }

    /// The templates of the folder store at `root`, read without opening its database.
    public init(storeFolder root: URL) { files = FolderFiles(layout: StoreLayout(root: root)) }

    /// The built-in templates only.
    public static let builtIn = TemplateCatalog(files: nil)

    public static let builtinNames = BuiltinTemplates.sources.keys.sorted()

    /// Whether `text` names a file rather than a template.
    public static func isPath(_ text: String) -> Bool { text.contains("/") || text.hasSuffix(".json") }

    /// Whether `text` could name a template: not a path, and a valid name.
    public static func isName(_ text: String) -> Bool {
        !isPath(text) && (try? ThingName.validate(text, kind: "template")) != nil
    }

    /// A template by name only (the service: a caller never makes it read a server path). Not
    /// a name a template could have is unknown, as far as a caller learns.
    public func template(named name: String) throws(PolicyError) -> Template {
        guard Self.isName(name) else { throw .templateNotFound(name) }
        return try template(name)
    }

    public func template(_ nameOrPath: String) throws(PolicyError) -> Template {
        if Self.isPath(nameOrPath) {
            return try Self.load(URL(fileURLWithPath: nameOrPath))
        }
        try ThingName.validate(nameOrPath, kind: "template")
        let relative = "templates/\(nameOrPath).json"
        if let files, let bytes = try? files.read(relative) {
            return try Template.parse(Data(bytes), source: files.describe(relative))
        }
        guard let source = BuiltinTemplates.sources[nameOrPath] else { throw .templateNotFound(nameOrPath) }
        return try Template.parse(Data(source.utf8), source: "built-in template \(nameOrPath)")
    }

    /// Every template reachable by name: the store's, then the built-in ones they do not shadow.
    public func all() -> [(template: Result<Template, PolicyError>, origin: String)] {
        var seen = Set<String>()
        var entries: [(Result<Template, PolicyError>, String)] = []
        if let files, let names = try? files.list("templates") {
            for name in names where name.hasSuffix(".json") {
                seen.insert(String(name.dropLast(5)))
                let relative = "templates/\(name)"
                entries.append((Result { () throws(PolicyError) in
                    guard let bytes = try? files.read(relative) else { throw .templateNotFound(files.describe(relative)) }
                    return try Template.parse(Data(bytes), source: files.describe(relative))
                }, files.describe(relative)))
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
