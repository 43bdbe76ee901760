import Foundation
import IoTCAKit
import Synchronization
import SwiftASN1
import X509

/// Decides who a client certificate is, on every request: its chain must validate (RFC 5280:
/// signatures, validity, constraints) to the node's pinned service root (`ServiceRootPin`) for
/// the service's clients, or to one of the store's roots for a device, the store must hold it as
/// an active certificate of a CA of the store, and its template must be `station` or `operator`.
/// The status is read from the store each time, so a revocation refuses the very next request,
/// on a new connection or one kept alive from before it.
final class ClientAuthenticator: Sendable {
    let store: Store
    /// Where the client's standing is read on a shared store (`Workers.read`).
    let workers: Workers
    /// The one root a station's, operator's or claim's chain may end at: the node's own copy,
    /// not the database's list of CAs, which a database writer could extend.
    let serviceRoot: Certificate

    /// Whose chain is validated: a service client's (to the pinned service root) or a device's
    /// (to the store's roots).
    enum Anchors: Sendable { case service, store }

    /// The store's CA certificates as the Verifier wants them; rebuilt when a CA changes.
    private struct Trust {
        var ders: [[UInt8]] = []
        var roots: [Certificate] = []
        var intermediates: [Certificate] = []
        /// Client certificates (DER) whose chain validated against this trust set, per anchor
        /// set: signatures do not change, so each is verified once; validity dates are checked
        /// on every request.
        var validated: [Anchors: Set<[UInt8]>] = [:]
        /// Which build of the trust set this is: a validation counts only for the one it used.
        var generation = 0
    }
    private static let validatedLimit = 10_000
    private let trust = Mutex(Trust())

    init(store: Store, serviceRoot: Certificate, workers: Workers) {
        self.store = store
        self.workers = workers
        self.serviceRoot = serviceRoot
    }

    /// The identity of the client that presented `leaf` (nil: no certificate at all).
    /// - Throws: `Problem` 401 (none, unknown, revoked, expired, not ours), 403 (a device's).
    func identify(_ presented: (certificate: Certificate, der: [UInt8])?) async throws(Problem) -> ClientIdentity {
        guard let (leaf, der) = presented else {
            throw Problem(.unauthenticated, detail: "this API needs a client certificate: a station's or an operator's, issued by this store's CA")
        }
        let serialNumber = SerialNumber(bytes: Array(leaf.serialNumber.bytes))
        let serial = serialNumber.hex
        do {
            try await validateChain((leaf, der), to: .service)
        } catch {
            // A device of this store (or anything else chaining to the store's roots) is known
            // but may call nothing; a stranger is not known at all.
            guard (try? await validateChain((leaf, der), to: .store)) != nil else { throw error }
            throw Problem(.forbidden, detail: "certificate \(serial) does not chain to this node's pinned service root: only station and operator certificates of this service's CA may call the API")
        }
        let standing: ClientStanding
        do {
            let store = self.store
            guard let found = try await workers.read(shared: store.isShared, { try store.clientStanding(serial: serialNumber, der: der) }) else {
                throw Problem(.unauthenticated, detail: "client certificate \(serial) is not one this store issued")
            }
            standing = found
        } catch let problem as Problem {
            throw problem
        } catch {
            throw Problem(error)
        }
        guard standing.status == .active else {
            throw Problem(.unauthenticated, detail: "client certificate \(serial) of \(standing.thing ?? "?") is revoked")
        }
        // Disabling a CA pauses its issuance; what it issued stays valid (as on the CRLs and in
        // OCSP), so its clients keep authenticating. Revoking it ends them.
        guard standing.authorityStatus == .active || standing.authorityStatus == .disabled else {
            throw Problem(.unauthenticated, detail: "client certificate \(serial) was issued by CA \(standing.authority), which is \(standing.authorityStatus.rawValue)")
        }
        guard let role = ClientRole(template: standing.template), let name = standing.thing else {
            throw Problem(.forbidden, detail: "certificate \(serial) is a \(standing.template) certificate; only station and operator certificates may call the API")
        }
        // The role is what the certificate itself says, signed by the service's CA: a row
        // whose template was changed (a device's made an operator's) does not make a client.
        guard standing.authority == ServiceHierarchy.caName, Self.names(leaf, role: role, name: name) else {
            throw Problem(.forbidden, detail: "certificate \(serial) is not a \(role.rawValue) certificate of this service's CA")
        }
        var identity = ClientIdentity(role: role, name: name, serial: serial, authority: standing.authority,
                                      grants: role == .station ? standing.grants : [])
        identity.factsEpoch = standing.factsEpoch
        return identity
    }

    /// Whether the certificate names `name` as a client of `role` in its URI (as the built-in
    /// `station` and `operator` templates write it).
    static func names(_ leaf: Certificate, role: ClientRole, name: String) -> Bool {
        let expected = "https://iotca.invalid/\(role == .station ? "stations" : "operators")/\(name)"
        guard let names = try? leaf.extensions.subjectAlternativeNames else { return false }
        return names.contains { if case .uniformResourceIdentifier(let uri) = $0 { uri == expected } else { false } }
    }

    /// Whether `presented` chains to `anchors` and is within its dates (RFC 5280 path
    /// validation, remembered per trust set). Its status in the store is the caller's to ask.
    /// - Throws: `Problem` 401.
    func validateChain(_ presented: (certificate: Certificate, der: [UInt8]), to anchors: Anchors) async throws(Problem) {
        let (leaf, der) = presented
        let serial = SerialNumber(bytes: Array(leaf.serialNumber.bytes)).hex
        let now = store.clock.now()
        let (roots, intermediates, known, generation) = try currentTrust(der, anchors: anchors)
        if known {
            guard leaf.notValidBefore <= now && now < leaf.notValidAfter else {
                throw Problem(.unauthenticated, detail: "client certificate \(serial) is not valid now (\(Timestamp.format(leaf.notValidBefore)) to \(Timestamp.format(leaf.notValidAfter)))")
            }
            return
        }
        var verifier = Verifier(rootCertificates: CertificateStore(roots)) { RFC5280Policy(validationTime: now) }
        if case .couldNotValidate(let failures) = await verifier.validate(leaf: leaf, intermediates: CertificateStore(intermediates)) {
            let reasons = Set(failures.map { $0.policyFailureReason.description }).sorted().joined(separator: "; ")
            let against = anchors == .service ? "this node's pinned service root (\(ServiceRootPin.fileName))" : "this store's CAs"
            throw Problem(.unauthenticated, detail: "client certificate \(serial) does not validate against \(against)" +
                          (reasons.isEmpty ? "" : ": \(reasons)"))
        }
        remember(der, anchors: anchors, generation: generation)
    }

    /// Remembers a validated client certificate, unless the trust set changed meanwhile.
    private func remember(_ der: [UInt8], anchors: Anchors, generation: Int) {
        trust.withLock { trust in
            guard trust.generation == generation else { return }
            if trust.validated[anchors, default: []].count >= Self.validatedLimit { trust.validated[anchors] = [] }
            trust.validated[anchors, default: []].insert(der)
        }
    }

    /// The roots and intermediates to validate against, and whether `der` was validated against
    /// them before. A remembered certificate costs no read: the trust set is read again only to
    /// validate a certificate not seen yet (a CA revoked since is caught by `clientStanding`).
    private func currentTrust(_ der: [UInt8], anchors: Anchors) throws(Problem) -> ([Certificate], [Certificate], Bool, Int) {
        let pick = { (trust: Trust, known: Bool) in
            (anchors == .service ? [self.serviceRoot] : trust.roots, trust.intermediates, known, trust.generation)
        }
        if let known = trust.withLock({ $0.validated[anchors]?.contains(der) == true ? pick($0, true) : nil }) {
            return known
        }
        let authorities: [Authority]
        do {
            authorities = try store.authorities()
        } catch {
            throw Problem(error)
        }
        let ders = authorities.compactMap(\.certificateDER)
        if let known = trust.withLock({ $0.ders == ders ? pick($0, false) : nil }) {
            return known
        }
        var fresh = Trust(ders: ders)
        // An imported CA's own issuers (an offline root, ACM PCA) are trusted as the CA is.
        let external = authorities.flatMap(\.externalChainDER).compactMap { try? Certificate(derEncoded: $0) }
        for certificate in authorities.compactMap({ try? $0.certificate() }) + external {
            if certificate.subject == certificate.issuer { fresh.roots.append(certificate) } else { fresh.intermediates.append(certificate) }
        }
        let generation = trust.withLock { current in
            fresh.generation = current.generation + 1
            current = fresh
            return fresh.generation
        }
        return pick(fresh, false)
    }
}
