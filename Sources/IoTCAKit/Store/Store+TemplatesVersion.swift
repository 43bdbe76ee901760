import Foundation

/// What `Store.templatesVersion` reads: compared, never shown (numbers, not text, since it is
/// read on every issuance).
public struct TemplatesVersion: Equatable, Sendable {
    let counter: String
    /// The templates folder's modification time (a folder store; zero on a shared one).
    var seconds: Int64 = 0
    var nanoseconds: Int64 = 0
}

extension Store {
    /// A value that changes whenever the store's templates may have: a counter that `template
    /// add` and `template remove` raise (on every node of a shared store), and for a folder store
    /// the templates folder's modification time too, which a template copied in by hand changes.
    /// Processes that keep parsed templates (the service's workers) compare it on each issuance.
    /// `counter` is the setting `templates_version` as read (nil before the first change).
    func templatesVersion(counter: String?) -> TemplatesVersion {
        let counter = counter ?? "0"
        guard !isShared else { return TemplatesVersion(counter: counter) }
        var info = stat()
        guard stat(templatesPath, &info) == 0 else { return TemplatesVersion(counter: counter) }
        return TemplatesVersion(counter: counter, seconds: Int64(info.st_mtim.tv_sec), nanoseconds: Int64(info.st_mtim.tv_nsec))
    }

    /// Raises the counter, in the transaction that records a template change.
    func raiseTemplatesVersion(_ db: any SQLConnection) throws {
        try db.execute("""
            INSERT INTO settings (key, value) VALUES ('templates_version', '1')
            ON CONFLICT(key) DO UPDATE SET value = CAST(CAST(settings.value AS BIGINT) + 1 AS TEXT)
            """)
    }
}
