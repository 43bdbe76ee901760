/// Nothing in the store matches what was asked for.
public struct CertificateNotFound: IoTCAError, Equatable {
    public let selector: String
    public init(selector: String) { self.selector = selector }
    public var kind: ErrorKind { .notFound }
    public var description: String {
        "no certificate with serial or thing \(PolicyError.quoted(selector)) in this store"
    }
}
