import Foundation

/// What `iotca list` selects; nil fields select everything.
public struct CertificateFilter: Sendable {
    public var thing: String?
    public var status: CertificateEntry.Status?
    public var authority: String?
    /// Only certificates of this template.
    public var template: String?
    /// Only certificates whose notAfter falls before this date (listed soonest first).
    public var expiringBefore: Date?
    /// Only certificates issued or revoked at or after this time (the audit report's `since`).
    public var changedSince: Date?
    /// Include the certificates CAs hold (root, issuing), not only things'.
    public var includeAuthorities = false
    /// Paging, in the order certificates were recorded: at most `limit` of them, starting after
    /// the certificate with serial `after` (the last of the previous page).
    public var limit: Int?
    public var after: SerialNumber?

    public init(thing: String? = nil, status: CertificateEntry.Status? = nil, authority: String? = nil, expiringBefore: Date? = nil,
                template: String? = nil) {
        self.thing = thing
        self.status = status
        self.authority = authority
        self.template = template
        self.expiringBefore = expiringBefore
    }
}
