import Foundation

/// Where the library reads the time. Every operation takes it from the store's clock instead of
/// calling `Date()`, so tests move time (a CA expires, a CRL ages) without sleeping, and a
/// second front end can share one clock with the library.
public struct WallClock: Sendable {
    private let read: @Sendable () -> Date

    public init(_ read: @escaping @Sendable () -> Date) { self.read = read }

    /// The system's clock.
    public static let system = WallClock { Date() }

    /// A clock that always says `date`.
    public static func fixed(_ date: Date) -> WallClock { WallClock { date } }

    public func now() -> Date { read() }
}

/// A clock a test sets and moves forward by hand.
public final class ManualClock: @unchecked Sendable {
    private let lock = NSLock()
    private var current: Date

    public init(_ start: Date = Date()) { current = start }

    public var now: Date { lock.withLock { current } }

    public func advance(by seconds: TimeInterval) { lock.withLock { current += seconds } }

    public func set(_ date: Date) { lock.withLock { current = date } }

    /// The clock to hand to `Store.open`.
    public var clock: WallClock { WallClock { [self] in self.now } }
}
