import Foundation
import X509

/// Anchors the audit hash chain to a CA key. The chain alone is unkeyed: whoever can write the
/// database can edit a row and re-hash every row after it. So each CRL publication appends an
/// `audit.checkpoint` event right after its `crl.publish` event, holding that event's hash (the
/// chain's head) signed with the publishing CA's key. Rewriting any event before a checkpoint
/// changes the head it signed, and a new signature needs the CA key (its passphrase). Events
/// after the last checkpoint are not anchored yet: `audit` and `doctor` say how many.
public enum AuditCheckpoint {
    public static let action = "audit.checkpoint"

    /// What the CA signs: a fixed label, so the signature can never pass for a certificate's or
    /// a CRL's, and the head hash.
    static func message(head: String) -> [UInt8] { Array("iotca audit checkpoint v1\n\(head)".utf8) }

    public struct Verdict: Sendable, Equatable {
        /// Checkpoints whose signatures verify.
        public var verified = 0
        /// The id of the last event a verified checkpoint covers.
        public var anchoredThrough: Int64?
        /// Events after the last verified checkpoint.
        public var unanchored = 0
        /// What does not verify, one line each.
        public var problems: [String] = []
    }

    /// Checks every checkpoint against the CA certificates of the store. From the first
    /// checkpoint on, every `crl.publish` must be followed by one (a store from before
    /// checkpoints has none before that).
    public static func verify(_ events: [AuditEvent], authorities: [Authority]) -> Verdict {
        var check = AuditChainCheck(authorities: authorities)
        for event in events { check.add(event) }
        return check.verdict
    }

    /// One checkpoint event's problem, or nil when its signature over the head it follows verifies.
    static func problem(_ event: AuditEvent, keys: [String: (Certificate.PublicKey, KeyAlgorithm)]) -> String? {
        let details = (try? JSONSerialization.jsonObject(with: Data(event.details.utf8))) as? [String: String] ?? [:]
        guard let head = details["head"], let signature = details["signature"].flatMap({ Data(base64Encoded: $0) }),
              head == event.previousHash else {
            return "checkpoint at event \(event.id) is malformed or does not follow the head it signs"
        }
        guard let (key, algorithm) = keys[event.subject] else {
            return "checkpoint at event \(event.id) names CA \(event.subject), which has no certificate here"
        }
        guard key.isValidSignature(ArraySlice(signature), for: message(head: head), signatureAlgorithm: algorithm.signatureAlgorithm) else {
            return "checkpoint at event \(event.id) does not verify with CA \(event.subject)'s key: the log was rewritten"
        }
        return nil
    }
}
