/// The store already has its own template of this name.
public struct TemplateExists: IoTCAError, Equatable {
    public let name: String
    public var kind: ErrorKind { .conflict }
    public var description: String { "the store already has a template \(name): replace it explicitly, or give the new one another name" }
}
