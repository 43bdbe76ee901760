import Crypto
import Foundation

/// The front door's template verbs: list, show, add, remove.
extension CertificateAuthority {
    // MARK: Templates (no store needed: the built-in ones always exist)

    /// The catalog of the store at `location`: a folder's templates are read without opening
    /// its database (so `template list` works beside a store that is not made yet); a database
    /// store is opened. - Throws: `StoreError` when the database cannot be.
    static func catalog(_ location: StoreLocation) throws -> TemplateCatalog {
        switch location {
        case .folder(let root): TemplateCatalog(storeFolder: root)
        case .postgres: TemplateCatalog(store: try Store.open(location, connections: 2))
        }
    }

    /// `template list`: the store's templates, then the built-in ones they do not shadow.
    public static func templates(store location: StoreLocation) throws -> [TemplateSummary] {
        try catalog(location).summaries()
    }

    /// `template show`: a template by name (the store's, else built-in) or path.
    /// - Throws: `PolicyError` (not found: unknown name or unreadable file; policy: invalid),
    ///   `StoreError` (a database that cannot be opened).
    public static func template(_ nameOrPath: String, store location: StoreLocation) throws -> Template {
        try catalog(location).template(nameOrPath)
    }

    /// `template add FILE`: the template, checked, becomes the store's own under its name
    /// (`templates/NAME.json`: in the folder, or in the database where every node reads it).
    /// - Throws: `PolicyError` (unreadable or invalid), `TemplateExists` (the store has one of
    ///   that name and `replace` is false); nothing is written then.
    public func addTemplate(from file: URL, replace: Bool = false) throws -> Template {
        let template = try TemplateCatalog.load(file)
        let relative = "templates/\(template.name).json"
        try ThingName.validate(template.name, kind: "template")
        let bytes = Array(try Data(contentsOf: file))
        if replace {
            try store.files.write(relative, bytes, mode: 0o644)
        } else {
            // Created only if absent, in one step: of two adds at once, one is refused.
            do {
                try store.files.createNew(relative, bytes, mode: 0o644)
            } catch OutputError.exists {
                throw TemplateExists(name: template.name)
            }
        }
        try store.write { db in
            try store.raiseTemplatesVersion(db)
            try store.appendEvent(db, action: "template.add", subject: template.name, details: ["sha256": Array(SHA256.hash(data: bytes)).hexString])
        }
        return template
    }

    /// `template remove NAME`: the store's own template goes (a built-in one of that name is then
    /// used again). - Throws: `PolicyError.templateNotFound` when the store has none.
    public func removeTemplate(_ name: String) throws {
        try ThingName.validate(name, kind: "template")
        guard try store.files.remove(["templates/\(name).json"]) == 1 else { throw PolicyError.templateNotFound(name) }
        try store.write { db in
            try store.raiseTemplatesVersion(db)
            try store.appendEvent(db, action: "template.remove", subject: name)
        }
    }

    /// A template of this instance's store, else built-in, by name or path.
    public func template(_ nameOrPath: String) throws(PolicyError) -> Template { try TemplateCatalog(store: store).template(nameOrPath) }

    /// A template of this instance's store, else built-in, by name only (for the service).
    public func template(named name: String) throws(PolicyError) -> Template { try TemplateCatalog(store: store).template(named: name) }

    /// The templates of this instance's store (for the service).
    public func templates() -> [TemplateSummary] { TemplateCatalog(store: store).summaries() }
}
