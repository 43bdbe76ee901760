import Crypto
import Foundation

/// One row of the append-only audit log. Each row's hash covers the previous row's hash, so
/// editing or deleting a row breaks the chain from there on.
public struct AuditEvent: Sendable, Equatable, Encodable {
    public var id: Int64
    public var at: String
    public var action: String
    public var subject: String
    public var details: String
    public var previousHash: String
    public var hash: String

    enum CodingKeys: String, CodingKey {
        case id, at, action, subject, details, hash
        case previousHash = "prev_hash"
    }

    static let genesisHash = String(repeating: "0", count: 64)

    static func hash(previous: String, at: String, action: String, subject: String, details: String) -> String {
        let text = [previous, at, action, subject, details].joined(separator: "\n")
        return Array(SHA256.hash(data: Data(text.utf8))).hexString
    }

    /// True when every row hashes to what it records and links to the row before it.
    public static func verifyChain(_ events: [AuditEvent]) -> Bool { firstBrokenLink(events) == nil }

    /// The id of the first event that does not hash to what it records or does not link to the
    /// one before it; nil when the chain is intact.
    public static func firstBrokenLink(_ events: [AuditEvent]) -> Int64? {
        var check = AuditChainCheck(authorities: [])
        for event in events { check.add(event) }
        return check.brokenAt
    }
}
