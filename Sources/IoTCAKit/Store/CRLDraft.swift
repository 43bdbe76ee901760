import Foundation

/// A CRL as the store decided it (number, times, how many entries) before it is encoded and
/// signed; the entries themselves went to a `CRLEntrySink` as they were read.
struct CRLDraft {
    let authority: String
    let number: Int64
    let thisUpdate: Int64
    let nextUpdate: Int64
    /// The store's time when the number was allocated (the audit event's time).
    let now: Date
    let entries: Int
}

/// What receives a CRL's entries while the store reads them, inside the drafting transaction:
/// the store knows rows, not encodings. `CRLBuilder` (Revocation/) encodes them as they come,
/// so a million entries are neither held twice nor read twice.
protocol CRLEntrySink {
    /// An empty sink (what a sink is swapped with when it changes hands between threads).
    init()
    /// How many entries are coming (read first, in the same snapshot).
    mutating func reserve(_ count: Int)
    mutating func append(_ entry: RevokedEntry)
}
