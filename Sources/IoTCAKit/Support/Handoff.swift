import Foundation

/// A bounded queue from one producing thread to one consuming thread. The producer blocks
/// while `capacity` items wait, so memory stays bounded however fast it reads; either side can
/// stop: `close` (no more items) or `abandon` (the consumer gave up: `send` returns false).
final class Handoff<Item>: @unchecked Sendable {
    private let condition = NSCondition()
    private let capacity: Int
    // Guarded by `condition`.
    private var items: [Item] = []
    private var closed = false
    private var abandoned = false

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// False when the consumer has abandoned the queue: the producer should stop.
    func send(_ item: Item) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while items.count >= capacity && !abandoned { condition.wait() }
        guard !abandoned else { return false }
        items.append(item)
        condition.broadcast()
        return true
    }

    /// The next item; nil once the queue is closed and empty.
    func receive() -> Item? {
        condition.lock()
        defer { condition.unlock() }
        while items.isEmpty && !closed { condition.wait() }
        guard !items.isEmpty else { return nil }
        let item = items.removeFirst()
        condition.broadcast()
        return item
    }

    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    func abandon() {
        condition.lock()
        abandoned = true
        items.removeAll()
        condition.broadcast()
        condition.unlock()
    }
}
