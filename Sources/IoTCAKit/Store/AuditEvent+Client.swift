extension AuditEvent {
    /// Who a network front end acts for (`station:NAME:SERIAL`), recorded as `client` in the
    /// details of every event the operation appends. A task-local: bound with
    /// `AuditEvent.$client.withValue(...) { ... }` around a synchronous library call, it holds
    /// on that thread for the call, and nothing else sees it.
    @TaskLocal public static var client: String?
}
