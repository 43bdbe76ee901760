/// What to revoke: one certificate by serial, or every active certificate of a thing.
public enum RevocationTarget: Sendable, Equatable {
    case serial(SerialNumber, authority: String?)
    case thing(String)
}
