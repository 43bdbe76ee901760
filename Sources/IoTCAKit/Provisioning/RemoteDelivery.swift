import Foundation

/// Issuance for a front end whose caller writes the bundle itself (the service's clients): the
/// certificate is recorded `recorded` for the caller's delivery target, the bundle handed back
/// unwritten, and the caller confirms once its copy is on disk. The same recovery rule as a
/// local batch: a repeat for the same target, while every active certificate of the thing is
/// still unconfirmed for that target, issues again and supersedes the unconfirmed ones, so a
/// client killed between the answer and its disk loses nothing and revokes nothing it delivered.
extension Provisioner {
    /// - Parameters:
    ///   - target: where the caller delivers (`api:CLIENT:FORMAT:PATH`), recorded with the row.
    ///   - recover: allow the recovery above instead of a conflict.
    /// - Throws: as `issue` before anything is recorded; `IssuanceConflict` when the thing has an
    ///   active certificate that is not an unconfirmed one for `target`.
    public func issueForDelivery(_ request: IssueRequest, target: String, recover: Bool) throws -> IssueResult {
        var planned = request
        // The recording transaction decides about active certificates when recovering.
        if recover { planned.renew = true }
        let plan = try self.plan(planned, bundleParent: nil, format: .json)
        let now = store.clock.now()
        let (issued, key, algorithm) = try Self.keyAndCertificate(plan, generator: generator, now: now)
        let entry = Self.entry(plan, issued: issued, keyAlgorithm: algorithm, now: now, target: target)
        var superseded: [SerialNumber] = []
        if recover && !request.renew {
            switch try store.recordIssuances([Store.Issuance(entry: entry, attributes: request.attributes,
                                                             reach: request.caller.reach(thing: request.thing), recoverTarget: target)])[0] {
            case .success(let previous): superseded = previous
            case .failure(let conflict): throw conflict
            }
            // The superseded certificates were never delivered; the CRL still says so at once.
            for name in Set(try superseded.flatMap { try store.certificates(serial: $0).map(\.authority) }) {
                try RevocationService(keyring: keyring).publish(name)
            }
        } else {
            _ = try store.recordIssuance(entry, attributes: request.attributes, renew: request.renew,
                                         reach: request.caller.reach(thing: request.thing))
        }
        var result = IssueResult(entry: entry, bundle: try Self.bundle(plan, entry: entry, key: key), location: nil)
        result.superseded = superseded
        return result
    }

    /// The caller has the bundle of `serial` on its disk: the certificate is `written`; with
    /// `supersede`, the thing's certificates recorded before it are revoked (superseded), only
    /// now that the new one is delivered. Confirming twice changes nothing.
    /// - Throws: `CertificateNotFound` (no such certificate of `thing`),
    ///   `RevocationError.alreadyRevoked` (it was revoked meanwhile), `StoreError`, `CRLNotPublished`.
    public func confirmDelivery(thing: String, serial: SerialNumber, supersede: Bool, caller: Caller = .local) throws -> [SerialNumber] {
        let entries = try store.certificates(CertificateFilter(thing: thing))
        guard let index = entries.firstIndex(where: { $0.serial == serial }) else { throw CertificateNotFound(selector: serial.hex) }
        // A confirmation may supersede every older certificate of the thing: the caller must
        // reach them all, not only the new one.
        try caller.requireReach(thing: thing, history: Set(entries.map { Caller.IssuedAs(template: $0.template, authority: $0.authority) }))
        // A revoked certificate is not delivered, and must not supersede the thing's active one:
        // that would leave the thing with nothing valid.
        let confirmed = entries[index]
        if confirmed.status == .revoked {
            throw RevocationError.alreadyRevoked(serial: serial.hex, at: confirmed.revokedAt.map(Timestamp.format) ?? "?",
                                                 reason: confirmed.revocationReason ?? "unspecified")
        }
        try store.markWritten([(thing, serial)])
        guard supersede else { return [] }
        let older = entries[..<index].filter { $0.status == .active }.map(\.serial)
        guard !older.isEmpty else { return [] }
        return try RevocationService(keyring: keyring).supersede(thing: thing, serials: older).map(\.serial)
    }
}
