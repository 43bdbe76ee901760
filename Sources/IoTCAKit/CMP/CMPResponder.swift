import Crypto
import Foundation
import Synchronization
import SwiftASN1
import X509

/// Answers Lightweight CMP (RFC 9483) for the issuing CA: enrolment with a token (MAC) or a
/// claim certificate (signature), key update, revocation by the device, confirmation, and
/// general messages for CA certificates, the next root and CRLs. Every answer is a PKIMessage:
/// refusals too, as CMP error messages with their PKIFailureInfo bit. The rules are EST's (one
/// use per token, grants, the template decides everything but the key).
public final class CMPResponder: Sendable {
    /// What the service needs besides the bytes: what was asked, whether it was refused, and
    /// whether the refusal was a failed secret (counted against the source, like EST's).
    public struct Answer: Sendable {
        public let der: [UInt8]
        public let request: String
        public let failure: CMPFailure?
        public let authenticationFailed: Bool
    }

    /// The CA whose signer answers and whose chain is handed out.
    let authority = "issuing"
    /// How long a certificate waits for its certConf before it is withdrawn.
    public let confirmationWait: TimeInterval
    /// How far a message's time may be from ours; nonces are remembered twice as long.
    static let timeWindow: TimeInterval = 600
    private let signer = Mutex<CMPSigner?>(nil)
    private let issuers = Mutex<[String: IssuerView]>([:])
    private let nonces = Mutex(NonceWindow())

    /// A CA's chain and subject, kept while its certificate stays the same (built per request,
    /// they were a tenth of a CMP enrolment's time).
    struct IssuerView: Sendable {
        let certificateDER: [UInt8]
        let chain: CertificateChain
        let nameDER: [UInt8]
    }

    public init(confirmationWait: TimeInterval = 300) {
        self.confirmationWait = confirmationWait
    }

    /// How far the caller validated a signed request's certificate chain (the service does,
    /// with the same validator as its TLS clients): claims must chain to the pinned service
    /// root, devices to the store's CAs. A signed request whose chain was not validated is refused.
    public enum ValidatedChain: Sendable {
        case serviceRoot, storeRoots
    }

    /// Who proved themselves, and so how the answer is protected.
    enum Client {
        /// A thing's enrolment token (or, for a confirmation, the secret its enrolment used);
        /// `token` is the token's row, to give it back if the certificate is withdrawn.
        /// `baseKey` is the request's PBM key, which keys the answer too (same parameters: one
        /// derivation per request, not two).
        case secret(thing: String, secret: String, pbm: CMPAlgorithms.PasswordBasedMAC, baseKey: [UInt8], keyID: [UInt8], token: EnrolmentTokenRow?)
        /// A certificate of this store whose key signed the message.
        case certificate(der: [UInt8], Certificate, ClientStanding)
    }

    /// The answer to one DER request. Never throws: every failure is a CMP error message.
    /// `operation`: the bodies the path's operation name allows (RFC 9483 6.1), if it named one.
    public func respond(to der: [UInt8], label: String?, operation: Set<String>? = nil, chain: ValidatedChain? = nil,
                        ca: CertificateAuthority) -> Answer {
        respond(to: Received(der), label: label, operation: operation, chain: chain, ca: ca)
    }

    /// A request read once: the service looks at its signer (to validate the chain) and the
    /// responder answers it, without parsing it twice.
    public struct Received: Sendable {
        let message: Result<CMPMessage, CMPFailure>

        public init(_ der: [UInt8]) {
            do throws(CMPFailure) { message = .success(try CMPMessage(derEncoded: der)) } catch { message = .failure(error) }
        }

        /// The first extra certificate of a signed request, which the caller validates the
        /// chain of before `respond` (nil for a MAC-protected or unreadable message).
        public var signerCertificate: (certificate: Certificate, der: [UInt8])? {
            guard case .success(let message) = message, let algorithm = message.header.protectionAlgorithm,
                  let (oid, _) = try? ASN1Reading.oid(try DER.parse(algorithm)), oid != CMPAlgorithms.passwordBasedMAC,
                  let first = message.extraCerts.first, let certificate = try? Certificate(derEncoded: first) else { return nil }
            return (certificate, first)
        }
    }

    public func respond(to received: Received, label: String?, operation: Set<String>? = nil, chain: ValidatedChain? = nil,
                        ca: CertificateAuthority) -> Answer {
        let now = ca.store.clock.now()
        var reply = CMPMessageWriter.Reply()
        var client: Client?
        var request = "unknown"
        do {
            let message = try received.message.get()
            request = message.body.name
            if let operation, !operation.contains(request) {
                throw CMPFailure(.badRequest, "a \(request) is not sent to this operation's path")
            }
            reply.pvno = message.header.pvno == 3 ? 3 : 2
            reply.recipient = message.header.sender
            reply.transactionID = message.header.transactionID
            reply.recipientNonce = message.header.senderNonce
            reply.authorityName = try issuer(authority, ca: ca).nameDER
            try checkHeader(message.header, now: now)
            let proven = try authenticate(message, chain: chain, ca: ca)
            client = proven
            try remember(message, now: now, ca: ca)
            let (tag, body, extra) = try answer(message, client: proven, label: label, ca: ca, now: now, reply: &reply)
            let der = try CMPMessageWriter.message(reply, bodyTag: tag, body: body, protection: try protection(for: proven, ca: ca, now: now),
                                                   now: now, extraCerts: extra)
            return Answer(der: der, request: request, failure: nil, authenticationFailed: false)
        } catch {
            let failure = Self.failure(error)
            // The refusal is protected as the request was when the client proved itself;
            // otherwise signed, so at least the CA is known to have sent it.
            let protection = client.flatMap { try? self.protection(for: $0, ca: ca, now: now) } ?? (try? signed(ca, now: now))
            reply.implicitConfirm = false
            let der = protection.flatMap {
                try? CMPMessageWriter.message(reply, bodyTag: CMPMessageWriter.bodyTags.error, body: CMPMessageWriter.errorContent(failure),
                                              protection: $0, now: now)
            } ?? []
            // Every refusal before the client proved itself counts against its source address.
            return Answer(der: der, request: request, failure: failure, authenticationFailed: client == nil)
        }
    }

    /// pvno, a transaction and a nonce (RFC 9483 3.1 requires both), a plausible time.
    private func checkHeader(_ header: CMPMessage.Header, now: Date) throws(CMPFailure) {
        guard header.pvno == 2 || header.pvno == 3 else { throw CMPFailure(.unsupportedVersion, "CMP version \(header.pvno) (2 and 3 are spoken)") }
        guard let id = header.transactionID, (16...64).contains(id.count) else {
            throw CMPFailure(.badRequest, "a transactionID of 16 to 64 bytes is required")
        }
        guard let nonce = header.senderNonce, (16...64).contains(nonce.count) else {
            throw CMPFailure(.badSenderNonce, "a senderNonce of 16 to 64 bytes is required")
        }
        // Required (RFC 9483 3.1 recommends it; OpenSSL always sends it): nonces are
        // remembered for twice the window, so an older message cannot be replayed.
        guard let time = header.messageTime else { throw CMPFailure(.badTime, "a messageTime is required") }
        guard abs(time.timeIntervalSince(now)) <= Self.timeWindow else {
            throw CMPFailure(.badTime, "the message time is more than \(Int(Self.timeWindow / 60)) minutes from the CA's")
        }
        guard header.sender.count <= 1_024 else { throw CMPFailure(.badDataFormat, "the sender name is longer than 1 KiB") }
    }

    /// Proves who sent the message: a MAC keyed by the thing's enrolment token (or, for a
    /// certConf, by the secret its enrolment used), or a signature by a certificate this store
    /// issued, active and valid now. Unprotected messages are refused.
    private func authenticate(_ message: CMPMessage, chain: ValidatedChain?, ca: CertificateAuthority) throws -> Client {
        guard let algorithm = message.header.protectionAlgorithm, let protection = message.protection else {
            throw CMPFailure(.badMessageCheck, "unprotected requests are refused: protect it with the enrolment token (MAC) or a certificate")
        }
        let (oid, parameters) = try ASN1Reading.oid(try DER.parse(algorithm))
        if oid == CMPAlgorithms.passwordBasedMAC {
            let pbm = try CMPAlgorithms.PasswordBasedMAC(parameters: parameters)
            guard let keyID = message.header.senderKID, let thing = String(bytes: keyID, encoding: .utf8) else {
                throw CMPFailure(.badMessageCheck, "a MAC-protected request names its thing as senderKID")
            }
            let (secret, token) = try macSecret(for: message, thing: thing, ca: ca)
            // Computed even without a secret, so the time taken tells nothing either.
            let baseKey = pbm.baseKey(secret: Array((secret ?? "-").utf8))
            guard let secret, ConstantTime.equal(pbm.authenticate(message.protectedPart, baseKey: baseKey), protection) else {
                throw CMPFailure(.badMessageCheck, "no CMP enrolment token for \(thing), or the MAC does not verify with it")
            }
            return .secret(thing: thing, secret: secret, pbm: pbm, baseKey: baseKey, keyID: keyID, token: token)
        }
        guard let signatureAlgorithm = CMPAlgorithms.signature(oid) else { throw CMPFailure(.badAlg, "unsupported protection algorithm \(oid)") }
        guard let der = message.extraCerts.first, let certificate = try? Certificate(derEncoded: der) else {
            throw CMPFailure(.badMessageCheck, "a signed request carries its signer's certificate first in extraCerts")
        }
        // The store first: a certificate it does not hold costs no signature check.
        let serial = SerialNumber(certificate.serialNumber)
        guard let standing = try ca.store.clientStanding(serial: serial, der: der), let chain else {
            throw CMPFailure(.signerNotTrusted, "certificate \(serial.hex) is not one this CA issued")
        }
        guard standing.status == .active, standing.authorityStatus == .active || standing.authorityStatus == .disabled else {
            throw CMPFailure(.certRevoked, "certificate \(serial.hex) or its CA is revoked")
        }
        guard !standing.awaitingConfirmation else {
            throw CMPFailure(.notAuthorized, "certificate \(serial.hex) awaits its confirmation: it proves nothing until confirmed")
        }
        if standing.template == CertificateAuthority.claimTemplate {
            guard chain == .serviceRoot, standing.authority == ServiceHierarchy.caName else {
                throw CMPFailure(.signerNotTrusted, "a claim certificate chains to this node's pinned service root")
            }
        }
        let now = ca.store.clock.now()
        guard certificate.notValidBefore <= now, now < certificate.notValidAfter else {
            throw CMPFailure(.signerNotTrusted, "certificate \(serial.hex) is not valid now")
        }
        guard certificate.publicKey.isValidSignature(protection, for: message.protectedPart, signatureAlgorithm: signatureAlgorithm) else {
            throw CMPFailure(.badMessageCheck, "the signature does not verify with the certificate in extraCerts")
        }
        return .certificate(der: der, certificate, standing)
    }

    /// The secret a MAC-protected message of `thing` must be keyed with: for a certConf, the
    /// one its enrolment used (the token is spent by then); otherwise the thing's unexpired token.
    private func macSecret(for message: CMPMessage, thing: String, ca: CertificateAuthority) throws -> (String?, EnrolmentTokenRow?) {
        switch message.body {
        case .certConf, .error:
            if let id = message.header.transactionID, let pending = try ca.store.pendingConfirmation(transactionID: Array(id).hexString) {
                guard pending.thing == thing, pending.credential.hasPrefix("mac:") else { return (nil, nil) }
                return (String(pending.credential.dropFirst(4)), nil)
            }
            // An error for no held certificate is still checked against the token.
            guard case .error = message.body else { return (nil, nil) }
        default:
            break
        }
        guard let token = try ca.store.enrolmentToken(thing: thing), ca.store.clock.now() < token.expiresAt else { return (nil, nil) }
        return (token.macSecret, token)
    }

    /// How the answer to `client` is protected: with its secret, or signed.
    func protection(for client: Client, ca: CertificateAuthority, now: Date) throws -> CMPMessageWriter.Protection {
        switch client {
        case .secret(_, _, let pbm, let baseKey, let keyID, _): .mac(pbm, baseKey: baseKey, keyID: keyID)
        case .certificate: try signed(ca, now: now)
        }
    }

    /// Signed by the CA's CMP signer, certified now if there is none yet or it is near its end.
    func signed(_ ca: CertificateAuthority, now: Date) throws -> CMPMessageWriter.Protection {
        if let current = signer.withLock({ $0 }), !current.isDue(at: now) { return .signature(current) }
        return .signature(try signer.withLock { current in
            if let current, !current.isDue(at: now) { return current }
            let authority = try ca.store.authority(named: self.authority)
            let chain = try ca.chain(of: self.authority)
            let made = try CMPSigner.issue(for: authority, with: try ca.keyring.signer(for: authority, toIssue: false),
                                           chain: chain.intermediates + [chain.root], store: ca.store, now: now)
            current = made
            return made
        })
    }

    /// CA `name`'s chain and subject (one read to see that its certificate is unchanged).
    func issuer(_ name: String, ca: CertificateAuthority) throws -> IssuerView {
        let authority = try ca.store.authority(named: name)
        guard let der = authority.certificateDER else { throw AuthorityError.pending(name) }
        if let known = issuers.withLock({ $0[name] }), known.certificateDER == der { return known }
        let view = IssuerView(certificateDER: der, chain: try ca.store.chain(of: authority),
                              nameDER: try DERWriter.encoded(try Certificate(derEncoded: der).subject))
        issuers.withLock { $0[name] = view }
        return view
    }

    /// A message is answered once. A key update, which nothing else makes one-shot, is
    /// recorded in the store: refused on every node and after a restart. The others are spent
    /// in the store anyway (a token, a claim's thing, a confirmation, a revocation) or change
    /// nothing (general messages): a window in memory refuses their repeats here.
    private func remember(_ message: CMPMessage, now: Date, ca: CertificateAuthority) throws {
        let nonce = message.header.senderNonce ?? []
        if case .certification(.kur, _) = message.body {
            guard try ca.store.rememberCMPNonce(nonce.hexString, at: now) else {
                throw CMPFailure(.badSenderNonce, "this message was already received (a replay)")
            }
        }
        try nonces.withLock { window throws(CMPFailure) in try window.remember(nonce, now: now, keep: 2 * Self.timeWindow) }
    }

    /// Library errors as CMP failures: what the client did wrong keeps its sentence; what went
    /// wrong here is a systemFailure without internals.
    static func failure(_ error: any Error) -> CMPFailure {
        switch error {
        case let failure as CMPFailure: return failure
        case let enrolment as EnrolmentError:
            if case .subjectMismatch = enrolment { return CMPFailure(.badCertTemplate, enrolment.description) }
            return CMPFailure(.notAuthorized, enrolment.description)
        case let denied as AccessDenied: return CMPFailure(.notAuthorized, denied.description)
        case let policy as PolicyError: return CMPFailure(.badCertTemplate, policy.description)
        case let conflict as IssuanceConflict: return CMPFailure(.badRequest, conflict.description)
        case let notFound as CertificateNotFound: return CMPFailure(.badCertId, notFound.description)
        case let revocation as RevocationError: return CMPFailure(.badRequest, revocation.description)
        case let authority as AuthorityError: return CMPFailure(.wrongAuthority, authority.description)
        case is StoreError: return CMPFailure(.systemUnavail, "the CA's store is unavailable; try again")
        default: return CMPFailure(.systemFailure, "the CA could not complete the request; its log says why")
        }
    }
}

/// Nonces seen lately by this process (RFC 9483 3.5): a repeated message is refused.
struct NonceWindow: Sendable {
    private var seen: [[UInt8]: Date] = [:]
    private var pruned = Date.distantPast
    /// Past this many, older nonces are dropped at once: a flood of general messages (which
    /// change nothing) cannot grow the window without bound.
    static let limit = 200_000

    mutating func remember(_ nonce: [UInt8], now: Date, keep: TimeInterval) throws(CMPFailure) {
        if now.timeIntervalSince(pruned) > keep / 4 || seen.count >= Self.limit {
            seen = seen.filter { now.timeIntervalSince($0.value) < keep }
            if seen.count >= Self.limit { seen = [:] }
            pruned = now
        }
        guard seen.updateValue(now, forKey: nonce) == nil else { throw CMPFailure(.badSenderNonce, "this message was already received (a replay)") }
    }
}
