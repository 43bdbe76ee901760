import Foundation

/// `iotca store migrate --from DIR --to postgres://...`: a folder store copied into an empty
/// shared database (`StoreCopy`, one transaction), then verified: a digest of every row and
/// store file on each side must match, and both are examined by `Doctor`, which must give the
/// same counts (CAs, things, certificates, CRLs, events) and audit chain head, and no finding
/// on the copy that the source lacks. A difference is reported (the copy is kept to inspect).
public enum StoreMigration {
    public struct Report: Sendable, Encodable {
        public let from: String
        public let to: String
        public let rows: [String: Int]
        public let files: Int
        /// `StoreCopy.digest` of each side.
        public let sourceDigest: String
        public let copyDigest: String
        /// Doctor's reports, unless the migration was asked not to examine (a benchmark's
        /// synthetic rows, whose signatures would all be findings).
        public let source: Doctor.Report?
        public let copy: Doctor.Report?
        /// The digests agree; the counts and chain heads agree, and the copy has no finding
        /// the source lacks.
        public var verified: Bool {
            guard sourceDigest == copyDigest else { return false }
            guard let source, let copy else { return true }
            return source.certificates == copy.certificates && source.crls == copy.crls && source.events == copy.events
                && source.head == copy.head && source.authorities == copy.authorities && source.things == copy.things
                && Set(copy.findings.map(\.problem)).subtracting(source.findings.map(\.problem)).isEmpty
        }
    }

    /// - Throws: `StoreError` (no source store, a target that already holds one, a key that is
    ///   not encrypted, either database failing); nothing is written to the target then.
    /// The point a migration has reached (crash tests stop it there).
    public enum Step: String, Sendable {
        /// Every row and file is in the target's transaction, not yet committed.
        case copied
    }

    public static func migrate(from source: URL, to target: StoreLocation, examine: Bool = true, clock: WallClock = .system,
                               step: (Step) -> Void = { _ in }) throws -> Report {
        guard case .postgres(let postgres, let node) = target else {
            throw StoreError.badLocation(target.description, detail: "a folder store is migrated into a PostgreSQL database, named by a postgres://USER@HOST/DB URL")
        }
        let from = try Store.open(source, clock: clock)
        defer { try? from.close() }
        let into = try Store.createShared(postgres, nodeFolder: node, clock: clock)
        defer { try? into.close() }
        let counts = try StoreCopy.copy(from: from, to: into, beforeCommit: { step(.copied) })
        // The node's copies of the public files, so this node's brokers find them as before.
        try StoreCopy.copyPublicFiles(from: from, to: into)
        return Report(from: source.path, to: postgres.description, rows: counts.rows, files: counts.files,
                      sourceDigest: try StoreCopy.digest(of: from), copyDigest: try StoreCopy.digest(of: into),
                      source: examine ? try Doctor(store: from).examine() : nil, copy: examine ? try Doctor(store: into).examine() : nil)
    }
}
