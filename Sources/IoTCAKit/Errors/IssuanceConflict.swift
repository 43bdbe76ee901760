/// The thing already holds an active certificate and the request did not ask to renew.
public struct IssuanceConflict: IoTCAError, Equatable {
    public let thing: String
    public let activeSerials: [String]
    public var kind: ErrorKind { .conflict }
    public var description: String {
        "thing \(thing) already has an active certificate (serial \(activeSerials.joined(separator: ", ")))"
    }
}
