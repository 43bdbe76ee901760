import Foundation
import Synchronization

/// A token bucket per client: `burst` requests at once, refilled at `perSecond`. Clients are
/// keyed by certificate serial; the table is bounded so a flood of distinct clients cannot
/// grow it without end (full buckets are forgotten first, which loses nothing).
final class RateLimiter: Sendable {
    let perSecond: Double
    let burst: Double
    private let now: @Sendable () -> Double
    private let buckets = Mutex<[String: Bucket]>([:])
    private static let maximumClients = 10_000

    private struct Bucket {
        var tokens: Double
        var updated: Double
    }

    /// `now` is seconds on a monotonic clock (injected by tests).
    init(perSecond: Double, burst: Double, now: @escaping @Sendable () -> Double = RateLimiter.monotonicSeconds) {
        self.perSecond = perSecond
        self.burst = burst
        self.now = now
    }

    /// Takes a token for `client`: nil when there was one, else whole seconds until there is.
    func take(_ client: String) -> Int? {
        let time = now()
        return buckets.withLock { buckets -> Int? in
            var bucket = buckets[client] ?? Bucket(tokens: burst, updated: time)
            bucket.tokens = min(burst, bucket.tokens + (time - bucket.updated) * perSecond)
            bucket.updated = time
            defer { buckets[client] = bucket }
            if buckets.count >= Self.maximumClients { forgetFull(&buckets, at: time) }
            guard bucket.tokens >= 1 else { return max(1, Int(((1 - bucket.tokens) / perSecond).rounded(.up))) }
            bucket.tokens -= 1
            return nil
        }
    }

    /// Whole seconds until `client` has a token again; nil when it has one now (none taken).
    func wait(_ client: String) -> Int? {
        let time = now()
        return buckets.withLock { buckets -> Int? in
            guard let bucket = buckets[client] else { return nil }
            let tokens = min(burst, bucket.tokens + (time - bucket.updated) * perSecond)
            return tokens >= 1 ? nil : max(1, Int(((1 - tokens) / perSecond).rounded(.up)))
        }
    }

    private func forgetFull(_ buckets: inout [String: Bucket], at time: Double) {
        buckets = buckets.filter { $0.value.tokens + (time - $0.value.updated) * perSecond < burst }
    }

    static let monotonicSeconds: @Sendable () -> Double = {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }
}
