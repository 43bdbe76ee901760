import Foundation
import X509

/// The audit log's checks, one event at a time: the hash chain (`AuditEvent.firstBrokenLink`)
/// and the CA-signed checkpoints (`AuditCheckpoint.verify`), so `audit` and `doctor` read a
/// fleet's log as a stream and remember a few hashes, not the log.
public struct AuditChainCheck {
    private var keys: [String: (Certificate.PublicKey, KeyAlgorithm)]
    private var previous = AuditEvent.genesisHash
    private var seenCheckpoint = false
    /// A `crl.publish` event (after the first checkpoint) whose checkpoint must come next.
    private var awaitingCheckpoint: Int64?
    private var eventsThroughAnchor = 0
    private var checkpoints = AuditCheckpoint.Verdict()
    /// Checkpoints signed by a CA the list given at the start did not hold (one made while a
    /// long read ran), with how many events came up to them: checked by `recheck`.
    private var unknownSigner: [(event: AuditEvent, events: Int)] = []

    /// Events seen so far.
    public private(set) var events = 0
    /// The id of the first event that does not hash to what it records or does not link to the
    /// one before it; nil while the chain is intact.
    public private(set) var brokenAt: Int64?
    /// The last event's hash.
    public private(set) var head: String?

    public init(authorities: [Authority]) {
        keys = Self.keys(authorities)
    }

    private static func keys(_ authorities: [Authority]) -> [String: (Certificate.PublicKey, KeyAlgorithm)] {
        Dictionary(authorities.compactMap { authority -> (String, (Certificate.PublicKey, KeyAlgorithm))? in
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
        if keys[event.subject] == nil {
            unknownSigner.append((event, events))
            return
        }
        anchor(event, events: events)
    }

    private mutating func anchor(_ event: AuditEvent, events: Int) {
        if let problem = AuditCheckpoint.problem(event, keys: keys) {
            checkpoints.problems.append(problem)
            return
        }
        checkpoints.verified += 1
        if event.id > checkpoints.anchoredThrough ?? Int64.min {
            checkpoints.anchoredThrough = event.id
            eventsThroughAnchor = events
        }
    }

    /// Checks again, with the CAs as they are now, the checkpoints whose CA was not in the list
    /// given at the start (read before a long stream of events, it may miss a CA made meanwhile).
    public mutating func recheck(with authorities: [Authority]) {
        let pending = unknownSigner
        unknownSigner = []
        keys = Self.keys(authorities)
        for (event, events) in pending { anchor(event, events: events) }
    }

    /// The checkpoints' verdict for the events seen so far.
    public var verdict: AuditCheckpoint.Verdict {
        var verdict = checkpoints
        for (event, _) in unknownSigner {
            verdict.problems.append("checkpoint at event \(event.id) names CA \(event.subject), which has no certificate here")
        }
        if let publication = awaitingCheckpoint { verdict.problems.append(Self.unanchoredPublication(publication)) }
        verdict.unanchored = events - eventsThroughAnchor
        return verdict
    }

    private static func unanchoredPublication(_ id: Int64) -> String {
        "CRL publication at event \(id) has no checkpoint after it: the log was altered"
    }
}
