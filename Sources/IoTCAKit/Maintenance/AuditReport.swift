import Foundation

/// `iotca audit`: every certificate the store's CAs issued or revoked, like ACM PCA's audit
/// report, and the event log with its hash chain checked.
public struct AuditReport: Sendable, Encodable {
    public var certificates: [CertificateEntry]
    public var events: [AuditEvent]
    public var chainIntact: Bool
    public var brokenAt: Int64?
    /// The CA-signed checkpoints that anchor the chain (see AuditCheckpoint).
    public var checkpoints = AuditCheckpoint.Verdict()
    public var anchoredThrough: Int64? { checkpoints.anchoredThrough }
    public var unanchoredEvents: Int { checkpoints.unanchored }
    public var checkpointProblems: [String] { checkpoints.problems }

    enum CodingKeys: String, CodingKey {
        case certificates, events
        case chainIntact = "hash_chain_intact"
        case brokenAt = "hash_chain_broken_at_event"
        case anchoredThrough = "anchored_through_event"
        case unanchoredEvents = "unanchored_events"
        case checkpointProblems = "checkpoint_problems"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(certificates, forKey: .certificates)
        try container.encode(events, forKey: .events)
        try container.encode(chainIntact, forKey: .chainIntact)
        try container.encode(brokenAt, forKey: .brokenAt)
        try container.encode(anchoredThrough, forKey: .anchoredThrough)
        try container.encode(unanchoredEvents, forKey: .unanchoredEvents)
        try container.encode(checkpointProblems, forKey: .checkpointProblems)
    }

    /// - Throws: `StoreError` when the store cannot be read.
    public static func make(store: Store, since: Date? = nil) throws -> AuditReport {
        var filter = CertificateFilter()
        filter.includeAuthorities = true
        let allEvents = try store.events()
        let broken = AuditEvent.firstBrokenLink(allEvents)
        var certificates = try store.certificates(filter)
        var events = allEvents
        if let since {
            certificates = certificates.filter { $0.createdAt >= since || ($0.revokedAt ?? .distantPast) >= since }
            let cutoff = Store.timestamp(since)
            events = events.filter { $0.at >= cutoff }
        }
        var report = AuditReport(certificates: certificates, events: events, chainIntact: broken == nil, brokenAt: broken)
        report.checkpoints = AuditCheckpoint.verify(allEvents, authorities: try store.authorities())
        return report
    }

    /// ACM PCA's audit report columns, one certificate per line (RFC 4180 quoting).
    public var certificatesCSV: String {
        ([Self.certificatesHeader] + certificates.map(Self.csvLine)).joined(separator: "\n") + "\n"
    }

    public var eventsCSV: String {
        ([Self.eventsHeader] + events.map(Self.csvLine)).joined(separator: "\n") + "\n"
    }

    static let certificatesHeader = "serial,ca,thing,subject,not_before,not_after,status,revoked_at,revocation_reason,template,certificate_sha256,created_at"
    static let eventsHeader = "id,at,action,subject,details,prev_hash,hash"

    static func csvLine(_ entry: CertificateEntry) -> String {
        [entry.serial.hex, entry.authority, entry.thing ?? entry.subjectAuthority ?? "", entry.subject,
         time(entry.notBefore), time(entry.notAfter), entry.status.rawValue, entry.revokedAt.map(time) ?? "",
         entry.revocationReason ?? "", entry.template, entry.fingerprintSHA256, time(entry.createdAt)]
            .map(csvField).joined(separator: ",")
    }

    static func csvLine(_ event: AuditEvent) -> String {
        [String(event.id), event.at, event.action, event.subject, event.details, event.previousHash, event.hash]
            .map(csvField).joined(separator: ",")
    }

    static func time(_ date: Date) -> String { CivilTime(date).rfc3339 }

    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
