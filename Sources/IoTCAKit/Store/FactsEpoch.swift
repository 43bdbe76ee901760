import Foundation

/// The shared store's facts epoch as one request read it: a stamp the database draws anew (at
/// random) in the transaction of every change to a CA's row or to the templates' version, and
/// when this process read it. Equal stamps mean the same CA rows and templates: a stamp is never
/// drawn twice, so one restored from a backup or left by a re-created database names exactly the
/// state it was drawn for, where a counter could count up to an old value over other rows.
///
/// Only fresh for `freshFor`: a request reads its standing when its headers arrive and plans
/// once its body is read and a worker is free. A caller that sends its body slowly must not
/// carry a CA's facts from before a `ca disable` into its issuance; past this age the plan reads
/// them again, as it did before it kept them.
public struct FactsEpoch: Sendable, Equatable {
    public let stamp: Int64
    public let readAt: Date

    public init(stamp: Int64, readAt: Date) {
        self.stamp = stamp
        self.readAt = readAt
    }

    /// Longer than a request waits for a worker under load (p99 below 50 ms in the shared-store
    /// benchmark), far shorter than an operator's `ca disable` takes to type.
    public static let freshFor: TimeInterval = 0.25

    /// Whether facts kept under `stamp` may be used at `now` (a clock set back counts as stale).
    func vouches(for stamp: Int64, at now: Date) -> Bool {
        let age = now.timeIntervalSince(readAt)
        return stamp == self.stamp && age >= 0 && age <= Self.freshFor
    }
}
