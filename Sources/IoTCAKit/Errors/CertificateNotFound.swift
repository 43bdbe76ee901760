/// Nothing in the store matches what was asked for.
public struct CertificateNotFound: IoTCAError, Equatable {
    public let selector: String
    public init(selector: String) { self.selector = selector }
    public var exitStatus: ExitStatus { .notFound }
    public var description: String {
        "no certificate with serial or thing \(PolicyError.quoted(selector)) in this store: see `iotca list`"
    }
}
