import Foundation
import X509

/// The audit log's checks, one event at a time: the hash chain (`AuditEvent.firstBrokenLink`)
/// and the CA-signed checkpoints (`AuditCheckpoint.verify`), so `audit` and `doctor` read a
/// fleet's log as a stream and remember a few hashes, not the log.
public struct AuditChainCheck {
    private let keys: [String: (Certificate.PublicKey, KeyAlgorithm)]
    private var previous = AuditEvent.genesisHash
    private var seenCheckpoint = false
    /// A `crl.publish` event (after the first checkpoint) whose checkpoint must come next.
    private var awaitingCheckpoint: Int64?
    private var eventsThroughAnchor = 0
    private var checkpoints = AuditCheckpoint.Verdict()

    /// Events seen so far.
    public private(set) var events = 0
    /// The id of the first event that does not hash to what it records or does not link to the
    /// one before it; nil while the chain is intact.
    public private(set) var brokenAt: Int64?
    /// The last event's hash.
    public private(set) var head: String?

    public init(authorities: [Authority]) {
        keys = Dictionary(authorities.compactMap { authority -> (String, (Certificate.PublicKey, KeyAlgorithm))? in
            guard let certificate = try? authority.certificate() else { return nil }
            return (authority.name, (certificate.publicKey, authority.keyAlgorithm))
        }, uniquingKeysWith: { first, _ in first })
    }

    public mutating func add(_ event: AuditEvent) {
        events += 1
        head = event.hash
        if brokenAt == nil {
            if event.previousHash == previous,
               event.hash == AuditEvent.hash(previous: previous, at: event.at, action: event.action, subject: event.subject, details: event.details) {
                previous = event.hash
            } else {
                brokenAt = event.id
            }
        }
        if let publication = awaitingCheckpoint, event.action != AuditCheckpoint.action {
            checkpoints.problems.append(Self.unanchoredPublication(publication))
        }
        awaitingCheckpoint = event.action == "crl.publish" && seenCheckpoint ? event.id : nil
        guard event.action == AuditCheckpoint.action else { return }
        seenCheckpoint = true
        if let problem = AuditCheckpoint.problem(event, keys: keys) {
            checkpoints.problems.append(problem)
            return
        }
        checkpoints.verified += 1
        checkpoints.anchoredThrough = event.id
        eventsThroughAnchor = events
    }

    /// The checkpoints' verdict for the events seen so far.
    public var verdict: AuditCheckpoint.Verdict {
        var verdict = checkpoints
        if let publication = awaitingCheckpoint { verdict.problems.append(Self.unanchoredPublication(publication)) }
        verdict.unanchored = events - eventsThroughAnchor
        return verdict
    }

    private static func unanchoredPublication(_ id: Int64) -> String {
        "CRL publication at event \(id) has no checkpoint after it: the log was altered"
    }
}
