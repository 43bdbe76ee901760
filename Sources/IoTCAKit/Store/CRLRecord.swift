import Foundation

/// A CRL as the store records it.
public struct CRLRecord: Sendable, Equatable, Codable {
    public var authority: String
    public var number: Int64
    public var thisUpdate: Date
    public var nextUpdate: Date
    public var entries: Int
    public var sha256: String

    enum CodingKeys: String, CodingKey {
        case authority = "ca", number, entries, sha256
        case thisUpdate = "this_update"
        case nextUpdate = "next_update"
    }
}
