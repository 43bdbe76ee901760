import Foundation

/// One line of a CRL, as `iotca crl show` lists it.
public struct RevokedCertificate: Sendable, Equatable, Encodable {
    public var serial: String
    public var thing: String?
    public var revokedAt: Date
    public var reason: String
    public var invalidityDate: Date?

    enum CodingKeys: String, CodingKey {
        case serial, thing, reason
        case revokedAt = "revoked_at"
        case invalidityDate = "invalidity_date"
    }
}
