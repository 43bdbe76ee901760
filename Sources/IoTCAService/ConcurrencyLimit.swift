import Hummingbird
import Synchronization

/// At most `limit` requests of a listener in progress at once; the next ones get 503 with
/// Retry-After at once, instead of queueing until every client times out.
struct ConcurrencyLimit<Context: RequestContext>: RouterMiddleware {
    let limit: Int
    let inFlight: Counter

    final class Counter: Sendable {
        let value = Atomic<Int>(0)
        init() {}
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let now = inFlight.value.wrappingAdd(1, ordering: .relaxed).newValue
        defer { inFlight.value.wrappingSubtract(1, ordering: .relaxed) }
        guard now <= limit else {
            throw Problem(.busy, detail: "\(limit) requests are already in progress; retry in a second", retryAfter: 1)
        }
        return try await next(request, context)
    }
}
