import Foundation
import IoTCAKit
import Synchronization
import SwiftASN1
import X509

/// Decides who a client certificate is, on every request: its chain must validate to one of
/// the store's roots (RFC 5280: signatures, validity, constraints), the store must hold it as an
/// active certificate of a CA of the store, and its template must be `station` or `operator`.
/// The status is read from the store each time, so a revocation refuses the very next request,
/// on a new connection or one kept alive from before it.
final class ClientAuthenticator: Sendable {
    let store: Store

    /// The store's CA certificates as the Verifier wants them; rebuilt when a CA changes.
    private struct Trust {
        var ders: [[UInt8]] = []
        var roots: [Certificate] = []
        var intermediates: [Certificate] = []
    }
    private let trust = Mutex(Trust())

    init(store: Store) {
        self.store = store
    }

    /// The identity of the client that presented `leaf` (nil: no certificate at all).
    /// - Throws: `Problem` 401 (none, unknown, revoked, expired, not ours), 403 (a device's).
    func identify(_ leaf: Certificate?) async throws(Problem) -> ClientIdentity {
        guard let leaf else {
            throw Problem(.unauthenticated, detail: "this API needs a client certificate: a station's or an operator's, issued by this store's CA")
        }
        let presented = SerialNumber(bytes: Array(leaf.serialNumber.bytes))
        let serial = presented.hex
        let (roots, intermediates) = try currentTrust()
        var verifier = Verifier(rootCertificates: CertificateStore(roots)) { RFC5280Policy(validationTime: store.clock.now()) }
        if case .couldNotValidate(let failures) = await verifier.validate(leaf: leaf, intermediates: CertificateStore(intermediates)) {
            let reasons = Set(failures.map { $0.policyFailureReason.description }).sorted().joined(separator: "; ")
            throw Problem(.unauthenticated, detail: "client certificate \(serial) does not validate against this store's CAs" +
                          (reasons.isEmpty ? "" : ": \(reasons)"))
        }
        let entry: CertificateEntry
        do {
            guard let found = try store.certificates(serial: presented).first(where: { try isPresented($0, leaf) }) else {
                throw Problem(.unauthenticated, detail: "client certificate \(serial) is not one this store issued")
            }
            entry = found
        } catch let problem as Problem {
            throw problem
        } catch {
            throw Problem(error)
        }
        guard entry.status == .active else {
            throw Problem(.unauthenticated, detail: "client certificate \(serial) of \(entry.thing ?? "?") is revoked")
        }
        guard let role = ClientRole(template: entry.template), let name = entry.thing else {
            throw Problem(.forbidden, detail: "certificate \(serial) is a \(entry.template) certificate; only station and operator certificates may call the API")
        }
        do {
            let grants = role == .station ? try store.grants(of: name) : []
            return ClientIdentity(role: role, name: name, serial: entry.serial.hex, authority: entry.authority, grants: grants)
        } catch {
            throw Problem(error)
        }
    }

    /// Whether `entry` is the certificate presented, byte for byte.
    private func isPresented(_ entry: CertificateEntry, _ leaf: Certificate) throws -> Bool {
        var serializer = DER.Serializer()
        try serializer.serialize(leaf)
        return entry.der == serializer.serializedBytes
    }

    private func currentTrust() throws(Problem) -> ([Certificate], [Certificate]) {
        let authorities: [Authority]
        do {
            authorities = try store.authorities()
        } catch {
            throw Problem(error)
        }
        let ders = authorities.compactMap(\.certificateDER)
        if let known = trust.withLock({ $0.ders == ders ? ($0.roots, $0.intermediates) : nil }) { return known }
        var fresh = Trust(ders: ders)
        // An imported CA's own issuers (an offline root, ACM PCA) are trusted as the CA is.
        let external = authorities.flatMap(\.externalChainDER).compactMap { try? Certificate(derEncoded: $0) }
        for certificate in authorities.compactMap({ try? $0.certificate() }) + external {
            if certificate.subject == certificate.issuer { fresh.roots.append(certificate) } else { fresh.intermediates.append(certificate) }
        }
        trust.withLock { $0 = fresh }
        return (fresh.roots, fresh.intermediates)
    }
}
