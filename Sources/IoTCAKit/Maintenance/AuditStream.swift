import Foundation

/// `iotca audit` for a fleet: the same report as `AuditReport`, written while the store is
/// read (certificates, then events), so memory stays flat whatever the store holds. The chain
/// and its checkpoints are checked on the way; the verdict comes last (in JSON, as the object's
/// closing fields).
public struct AuditStream {
    public enum Format: String, Sendable, CaseIterable {
        /// ACM PCA's columns: the certificates, or the events.
        case csv
        /// One object: certificates, events, then the verdict.
        case json
        /// One certificate (or event) a line.
        case jsonl
    }

    /// What the log's checks found.
    public struct Verdict: Sendable {
        public var brokenAt: Int64?
        public var checkpoints: AuditCheckpoint.Verdict
        public var chainIntact: Bool { brokenAt == nil }
    }

    public let store: Store

    public init(store: Store) { self.store = store }

    /// Writes the report; `events` picks the event log instead of the certificates for csv and
    /// jsonl (json holds both). Only what happened at or after `since` is written; the whole
    /// log is checked. - Throws: `StoreError`, `OutputError`.
    public func write(_ format: Format, events: Bool = false, since: Date? = nil, to output: StreamWriter) throws -> Verdict {
        var check = AuditChainCheck(authorities: try store.authorities())
        let cutoff = since.map(Store.timestamp)
        func eachEvent(_ body: (AuditEvent) throws -> Void) throws {
            try store.forEachEvent { event in
                check.add(event)
                if cutoff.map({ event.at >= $0 }) ?? true { try body(event) }
            }
        }
        var filter = CertificateFilter()
        filter.includeAuthorities = true
        filter.changedSince = since
        if format == .json {
            try output.write("{\n  \"certificates\" : ")
            let certificates = RecordWriter<CertificateEntry>(.json, to: output, indent: "  ")
            try store.forEachCertificate(filter) { try certificates.add($0) }
            try certificates.finish()
            try output.write(",\n  \"events\" : ")
            let list = RecordWriter<AuditEvent>(.json, to: output, indent: "  ")
            try eachEvent { try list.add($0) }
            try list.finish()
        } else if events {
            if format == .csv { try output.write(AuditReport.eventsHeader + "\n") }
            let lines = RecordWriter<AuditEvent>(.jsonl, to: output)
            try eachEvent { event in format == .csv ? try output.write(AuditReport.csvLine(event) + "\n") : try lines.add(event) }
        } else {
            if format == .csv { try output.write(AuditReport.certificatesHeader + "\n") }
            let lines = RecordWriter<CertificateEntry>(.jsonl, to: output)
            try store.forEachCertificate(filter) { entry in format == .csv ? try output.write(AuditReport.csvLine(entry) + "\n") : try lines.add(entry) }
            try eachEvent { _ in }  // checked, not written
        }
        // With the CAs as they are now: one made during a long report signed its checkpoints
        // after the list above was read.
        check.recheck(with: try store.authorities())
        let checkpoints = check.verdict
        if format == .json {
            let problems = String(decoding: try JSONEncoder.iotcaCompact.encode(checkpoints.problems), as: UTF8.self)
            try output.write(",\n  \"hash_chain_intact\" : \(check.brokenAt == nil),\n  \"hash_chain_broken_at_event\" : \(check.brokenAt.map(String.init) ?? "null"),\n")
            try output.write("  \"anchored_through_event\" : \(checkpoints.anchoredThrough.map(String.init) ?? "null"),\n")
            try output.write("  \"unanchored_events\" : \(checkpoints.unanchored),\n  \"checkpoint_problems\" : \(problems)\n}\n")
        }
        try output.flush()
        return Verdict(brokenAt: check.brokenAt, checkpoints: checkpoints)
    }
}
