/// Where a CA key lives, and whether it answered when asked.
public struct KeyStatus: Sendable, Equatable, Encodable {
    /// A key file's name in the store, or the token URI and module.
    public let location: String
    public let inToken: Bool
    /// nil: not checked.
    public let reachable: Bool?
    public let problem: String?
}
