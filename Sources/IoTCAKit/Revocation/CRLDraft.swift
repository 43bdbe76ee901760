import Foundation

/// A CRL as the store decided it (number, times, entries) before it is encoded and signed.
struct CRLDraft {
    let authority: String
    let number: Int64
    let thisUpdate: Int64
    let nextUpdate: Int64
    /// The store's time when the number was allocated (the audit event's time).
    let now: Date
    /// The entries, already encoded; `finish` adds the rest and the signature.
    var entries: CRLBuilder
}
