/// The caller may not do what it asked: the library's own refusal, made where the operation
/// reads what it would change, so every front door (the API, EST, the CLI) refuses alike.
/// Nothing was recorded or signed when this is thrown.
public struct AccessDenied: IoTCAError, Equatable {
    /// Who asked, as `Caller.description` names it (`station line-7`).
    public let caller: String
    /// What was refused and why, in words a person can act on.
    public let reason: String
    public var kind: ErrorKind { .forbidden }

    public init(caller: String, reason: String) {
        self.caller = caller
        self.reason = reason
    }

    public var description: String { "\(caller) may not \(reason)" }
}
