import Crypto
import Foundation
import Synchronization

/// Answers OCSP requests (RFC 6960, in the RFC 5019 profile relying parties use) for every CA of
/// a store: `good`, `revoked` with time and reason, or `unknown`, signed by the CA's delegated
/// signer (`OCSPSigner`), the nonce echoed when one was sent.
/// Answers without a nonce are cached and served again without signing until half their
/// validity has passed. The store counts every status change (`revocationEpoch`), whoever
/// makes it; each request reads the count first, and a change drops the whole cache: a
/// revocation by the CLI or another node is answered as such on the very next request.
public final class OCSPResponder: Sendable {
    public struct Answer: Sendable, Equatable {
        public let der: [UInt8]
        /// For HTTP caching (RFC 5019 6.2), on successful answers without a nonce.
        public let thisUpdate: Date?
        public let nextUpdate: Date?
        /// Why it is not `successful`, when it is not (for logs and metrics).
        public let refusal: String?
        /// A short digest of `der` (an HTTP ETag) for answers caches may keep, made once with
        /// the answer, not per request; nil for the others.
        public let digest: String?

        /// `tryLater`, for a server that can no longer answer (it is stopping).
        public static let stopping = Answer(der: OCSPResponseWriter.unsuccessful(.tryLater), thisUpdate: nil, nextUpdate: nil,
                                            refusal: "tryLater: the responder is stopping")

        init(der: [UInt8], thisUpdate: Date?, nextUpdate: Date?, refusal: String?) {
            self.der = der
            self.thisUpdate = thisUpdate
            self.nextUpdate = nextUpdate
            self.refusal = refusal
            digest = thisUpdate == nil ? nil : Array(SHA256.hash(data: der).prefix(16)).hexString
        }
    }

    let keyring: Keyring
    var store: Store { keyring.store }
    /// nextUpdate - thisUpdate of every answer.
    public let validity: Int64
    /// At most this many answers are kept; past it the cache starts over.
    static let cacheLimit = 200_000

    /// A CA as CertIDs name it: its name's and key's hashes under each hash algorithm.
    private struct Issuer: Sendable {
        let authority: Authority
        let hashes: [OCSPRequest.HashAlgorithm: (name: [UInt8], key: [UInt8])]

        func matches(_ id: OCSPRequest.CertID) -> Bool {
            guard let hash = hashes[id.hashAlgorithm] else { return false }
            return hash.name == id.issuerNameHash && hash.key == id.issuerKeyHash
        }
    }

    private struct Cached: Sendable {
        let answer: Answer
        /// When to sign it again: half its validity.
        let refreshAt: Int64
    }

    private struct State: Sendable {
        var epoch: Int64 = -1
        var issuers: [Issuer]?
        var cache: [[UInt8]: Cached] = [:]
    }
    private let state = Mutex(State())
    private let signers = Mutex<[String: OCSPSigner]>([:])
    private let certification = Mutex<Void>(())

    public init(keyring: Keyring, validity: Int64 = 3_600) {
        self.keyring = keyring
        self.validity = validity
    }

    /// The answer to one DER request. Never throws: every failure is an OCSP status.
    public func answer(_ bytes: [UInt8]) -> Answer {
        // Without quickOnly there is always an answer.
        answer(bytes, quickOnly: false) ?? Self.refused(.internalError, "no answer")
    }

    /// The answer; with `quickOnly`, nil when making it would take more than the watch
    /// connection's reads and a signature of microseconds: certifying a delegated signer (a key,
    /// a signature and a write to the store, which may wait for another writer), a signature by
    /// the CA's own key (maybe on a token) or by RSA, or a pooled read (the CAs' rows after a
    /// change, a revoked CA's revocation). For a caller that must not wait (an event loop), which
    /// then asks again without it where waiting is allowed.
    public func answer(_ bytes: [UInt8], quickOnly: Bool) -> Answer? {
        let request: OCSPRequest
        do {
            request = try OCSPRequest(der: bytes)
        } catch {
            return Self.refused(.malformedRequest, "\(error)")
        }
        let now = Int64(store.clock.now().timeIntervalSince1970.rounded(.down))
        do {
            let epoch = try store.revocationEpoch()
            let cacheable = request.nonceExtension == nil && request.certIDs.count == 1
            let (known, hit) = state.withLock { state -> ([Issuer]?, Answer?) in
                if state.epoch != epoch {
                    state.epoch = epoch
                    state.cache.removeAll(keepingCapacity: true)
                    state.issuers = nil
                }
                guard cacheable, let cached = state.cache[request.certIDs[0].der], cached.refreshAt > now else { return (state.issuers, nil) }
                return (state.issuers, cached.answer)
            }
            if let hit { return hit }
            // The CAs' rows are a pooled read, made once per revocation count: not when quick.
            if quickOnly, known == nil { return nil }
            let issuers = try known ?? loadIssuers(epoch: epoch)
            guard let issuer = issuers.first(where: { $0.matches(request.certIDs[0]) }),
                  request.certIDs.allSatisfy({ issuer.matches($0) }) else {
                // Not a CA of this store (or several CAs in one request, which one signer cannot vouch for).
                return Self.refused(.unauthorized, "no CA of this store issued the certificate asked about")
            }
            guard let signer = try currentSigner(for: issuer.authority, now: now, certifying: !quickOnly),
                  !quickOnly || (signer.signsQuickly && issuer.authority.status != .revoked) else { return nil }
            let nextUpdate = min(now + validity, Int64(signer.notAfter.timeIntervalSince1970.rounded(.down)))
            // A revoked CA's certificates are all revoked as of the CA (RFC 6960 2.2): never `good`.
            let caRevocation = issuer.authority.status == .revoked ? try store.authorityRevocation(issuer.authority.name) : nil
            var statuses: [OCSPCertificateStatus] = []
            for id in request.certIDs {
                var status = try store.ocspStatus(authorityID: issuer.authority.id, serial: SerialNumber(bytes: id.serial)) ?? .unknown
                if let caRevocation, status == .good { status = caRevocation }
                statuses.append(status)
            }
            let singles = zip(request.certIDs, statuses).map {
                OCSPResponseWriter.Single(certID: $0.der, status: $1, thisUpdate: now, nextUpdate: nextUpdate)
            }
            let der = try OCSPResponseWriter.successful(singles, producedAt: now, nonceExtension: request.nonceExtension, signer: signer)
            let answer = Answer(der: der, thisUpdate: cacheable ? Date(timeIntervalSince1970: TimeInterval(now)) : nil,
                                nextUpdate: cacheable ? Date(timeIntervalSince1970: TimeInterval(nextUpdate)) : nil, refusal: nil)
            // `unknown` is not kept: the serial may be issued a moment later.
            if cacheable, statuses[0] != .unknown {
                state.withLock { state in
                    // Only under the count it was read at: a status read before a revocation
                    // must not outlive it in the cache.
                    guard state.epoch == epoch else { return }
                    if state.cache.count >= Self.cacheLimit { state.cache.removeAll(keepingCapacity: true) }
                    state.cache[request.certIDs[0].der] = Cached(answer: answer, refreshAt: now + (nextUpdate - now) / 2)
                }
            }
            return answer
        } catch let error as StoreError {
            if case .busy = error { return Self.refused(.tryLater, "\(error)") }
            return Self.refused(.internalError, "\(error)")
        } catch {
            return Self.refused(.internalError, "\(error)")
        }
    }

    private static func refused(_ status: OCSPResponseWriter.Status, _ why: String) -> Answer {
        Answer(der: OCSPResponseWriter.unsuccessful(status), thisUpdate: nil, nextUpdate: nil, refusal: "\(status): \(why)")
    }

    /// The store's CAs with their CertID hashes; kept until the count changes.
    private func loadIssuers(epoch: Int64) throws -> [Issuer] {
        let issuers = try store.authorities().compactMap { authority -> Issuer? in
            guard let der = authority.certificateDER, let (name, bits) = Self.subjectAndKeyBits(der) else { return nil }
            var hashes: [OCSPRequest.HashAlgorithm: (name: [UInt8], key: [UInt8])] = [:]
            hashes[.sha1] = (Array(Insecure.SHA1.hash(data: name)), Array(Insecure.SHA1.hash(data: bits)))
            hashes[.sha256] = (Array(SHA256.hash(data: name)), Array(SHA256.hash(data: bits)))
            hashes[.sha384] = (Array(SHA384.hash(data: name)), Array(SHA384.hash(data: bits)))
            hashes[.sha512] = (Array(SHA512.hash(data: name)), Array(SHA512.hash(data: bits)))
            return Issuer(authority: authority, hashes: hashes)
        }
        state.withLock { if $0.epoch == epoch { $0.issuers = issuers } }
        return issuers
    }

    /// The DER of a certificate's subject Name and its subjectPublicKey bits: what CertID hashes.
    public static func subjectAndKeyBits(_ der: [UInt8]) -> (ArraySlice<UInt8>, ArraySlice<UInt8>)? {
        let reader = DERReader(bytes: der)
        guard let certificate = reader.element(at: 0, limit: der.count), let tbs = reader.firstChild(of: certificate),
              var field = reader.firstChild(of: tbs) else { return nil }
        if field.tag == 0xA0 { guard let next = reader.next(after: field, in: tbs) else { return nil }; field = next }
        // serialNumber, signature, issuer, validity, then subject and subjectPublicKeyInfo.
        for _ in 0..<4 { guard let next = reader.next(after: field, in: tbs) else { return nil }; field = next }
        guard field.tag == 0x30, let spki = reader.next(after: field, in: tbs), spki.tag == 0x30,
              let bits = CertificateWriter.subjectPublicKeyBits(Array(reader.slice(spki))) else { return nil }
        return (reader.slice(field), bits)
    }

    /// The CA's delegated signer, certified now if there is none yet or it is near its end.
    private func currentSigner(for authority: Authority, now: Int64, certifying: Bool) throws -> OCSPSigner? {
        let date = Date(timeIntervalSince1970: TimeInterval(now))
        if let current = signers.withLock({ $0[authority.name] }), !current.isDue(at: date) { return current }
        guard certifying else { return nil }
        // Certified under a lock of its own, so concurrent first requests make one signer, not
        // several, while the signers' lock stays free for the answers that need no new one.
        return try certification.withLock { _ in
            if let current = signers.withLock({ $0[authority.name] }), !current.isDue(at: date) { return current }
            let caSigner = try keyring.signer(for: authority, toIssue: false)
            // A CA that may not issue certifies no new signer: it signs its answers itself.
            let made = authority.status == .active
                ? try OCSPSigner.issue(for: authority, with: caSigner, store: store, now: date)
                : try OCSPSigner.caItself(authority, signer: caSigner)
            signers.withLock { $0[authority.name] = made }
            return made
        }
    }
}
