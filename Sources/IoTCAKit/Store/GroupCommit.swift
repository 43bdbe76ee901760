import Foundation
import Synchronization

/// Group commit for issuances: threads that record at the same moment share one write
/// transaction, and so one sync of the WAL. The first thread to arrive leads: it writes every
/// issuance queued by then, its own included, hands each waiting thread its own outcome, and
/// passes the lead to the first thread that queued meanwhile. One thread alone (the CLI) leads
/// a group of one, so there is one recording path for everybody.
/// Each issuance keeps its own outcome: a conflict refuses that row only; an error of the
/// transaction itself (disk full, the store busy) fails the whole group, and records nothing.
final class GroupCommit: Sendable {
    /// One issuance waiting to be recorded.
    struct Issuance: Sendable {
        let entry: CertificateEntry
        let attributes: [String: String]
        let renew: Bool
        /// For a caller limited by grants: what it may touch on this thing.
        let reach: Caller.Reach?
        /// The API client its audit event names: the leading thread writes other threads' events.
        let client: String?
    }

    typealias Outcome = Result<[SerialNumber], any Error>

    /// One waiting thread. `state` is written by the leader before it signals `wake`, and read
    /// by the owner after `wake` returns: the semaphore orders the two.
    private final class Ticket: @unchecked Sendable {
        enum State { case waiting, lead, done(Outcome) }
        let issuance: Issuance
        let wake = DispatchSemaphore(value: 0)
        var state = State.waiting
        init(_ issuance: Issuance) { self.issuance = issuance }
    }

    private struct Queue {
        var waiting: [Ticket] = []
        var leading = false
    }
    private let queue = Mutex(Queue())

    /// Records `issuance`, alone or with others; `write` records a group in one transaction and
    /// returns one outcome per issuance, in order.
    func record(_ issuance: Issuance, write: ([Issuance]) -> [Outcome]) throws -> [SerialNumber] {
        let ticket = Ticket(issuance)
        let leads = queue.withLock { queue in
            queue.waiting.append(ticket)
            guard !queue.leading else { return false }
            queue.leading = true
            return true
        }
        if !leads { ticket.wake.wait() }
        if case .done(let outcome) = ticket.state { return try outcome.get() }

        let group = queue.withLock { queue in
            defer { queue.waiting.removeAll(keepingCapacity: true) }
            return queue.waiting
        }
        let outcomes = write(group.map(\.issuance))
        for (member, outcome) in zip(group, outcomes) { member.state = .done(outcome) }
        let next = queue.withLock { queue -> Ticket? in
            guard let first = queue.waiting.first else {
                queue.leading = false
                return nil
            }
            first.state = .lead
            return first
        }
        for member in group where member !== ticket { member.wake.signal() }
        next?.wake.signal()
        guard case .done(let outcome) = ticket.state else { throw StoreError.database("group commit lost an outcome") }
        return try outcome.get()
    }
}
