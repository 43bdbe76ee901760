import Foundation
import SwiftASN1
import X509

extension CMPResponder {
    /// certConf: the client accepts the certificate it was sent, or rejects it (then it is
    /// revoked as cessationOfOperation at once). Protected as the request was, in the same
    /// transaction, answering the answer's nonce, with the hash of that very certificate.
    func confirm(_ statuses: [CMPBody.CertStatus], message: CMPMessage, client: Client, ca: CertificateAuthority, now: Date) throws -> [[UInt8]] {
        let id = (message.header.transactionID ?? []).hexString
        guard let pending = try ca.store.pendingConfirmation(transactionID: id) else {
            throw CMPFailure(.badRequest, "no certificate awaits confirmation in this transaction (confirmed already, withdrawn, or confirmed implicitly)")
        }
        guard pending.credential == Self.credential(client) else {
            throw CMPFailure(.notAuthorized, "the confirmation is not protected by who made the request")
        }
        guard message.header.recipientNonce?.hexString == pending.nonce else {
            throw CMPFailure(.badRecipientNonce, "the recipNonce is not the senderNonce of the certificate's answer")
        }
        guard statuses.count == 1, let status = statuses.first else { throw CMPFailure(.badRequest, "one CertStatus per confirmation") }
        let digest: CMPAlgorithms.Digest
        if let algorithm = status.hashAlgorithm {
            guard let named = CMPAlgorithms.Digest(try ASN1Reading.oid(try DER.parse(algorithm)).0) else {
                throw CMPFailure(.badAlg, "the certHash's algorithm is not SHA-256, SHA-384 or SHA-512")
            }
            digest = named
        } else {
            digest = CMPAlgorithms.Digest(signedWith: try Certificate(derEncoded: pending.der).signatureAlgorithm)
        }
        guard ConstantTime.equal(digest.hash(pending.der), status.certHash) else {
            throw CMPFailure(.badCertId, "the certHash is not the hash of the certificate sent")
        }
        guard now < pending.due else {
            throw CMPFailure(.badRequest, "the confirmation came after the certificate's wait ended; it is being withdrawn")
        }
        let accepted = status.status == nil || status.status == 0 || status.status == 1
        // A claim is shared by a batch: whoever read its key out of one device could reject
        // another's certificate. Only acceptances count; a rejection is left to the timeout.
        if !accepted && (pending.kind == .claim || pending.kind == .claimReopened) { return [] }
        let (settled, revoked) = try ca.store.settleConfirmation(transactionID: id, accepted: accepted, reason: status.reason, at: now)
        guard settled else { throw CMPFailure(.badRequest, "the certificate was confirmed or withdrawn meanwhile") }
        if !revoked.isEmpty { _ = try? RevocationService(keyring: ca.keyring).publishEach([pending.authority]) }
        // A confirmed key update: the certificate it replaces is superseded after the grace.
        if accepted, pending.kind == .device, let (serial, authority) = pending.replaces {
            try ca.supersedeAfterGrace(serial: serial, authority: authority, template: pending.template, now: now)
        }
        return []
    }

    /// Withdraws the certificates whose confirmation did not come in time, publishing their
    /// CAs' CRLs; the service asks every minute.
    public func withdrawUnconfirmed(ca: CertificateAuthority) throws -> [CertificateEntry] {
        let now = ca.store.clock.now()
        let revoked = try ca.store.withdrawUnconfirmed(now: now, forgetNoncesBefore: now.addingTimeInterval(-2 * Self.timeWindow))
        if !revoked.isEmpty { _ = try RevocationService(keyring: ca.keyring).publishEach(Array(Set(revoked.map(\.authority))).sorted()) }
        return revoked
    }

    /// An error message from the client for a transaction whose certificate awaits its
    /// confirmation, protected by the request's credential: the certificate is withdrawn now.
    func withdrawOnClientError(_ message: CMPMessage, client: Client, ca: CertificateAuthority, now: Date) throws {
        let id = (message.header.transactionID ?? []).hexString
        // It must answer the certificate's answer (its nonce): a reflected answer of the CA, keyed
        // with the same secret, is not the client's.
        guard let pending = try ca.store.pendingConfirmation(transactionID: id), pending.credential == Self.credential(client),
              pending.kind == .token || pending.kind == .device, message.header.recipientNonce?.hexString == pending.nonce else { return }
        let (_, revoked) = try ca.store.settleConfirmation(transactionID: id, accepted: false, reason: "the client sent an error", at: now)
        if !revoked.isEmpty { _ = try? RevocationService(keyring: ca.keyring).publishEach([pending.authority]) }
    }

    /// rr: a device revokes its own certificate, the one whose key signed the request. Nothing
    /// else may be revoked this way: other certificates, stations, operators and claims are an
    /// operator's to revoke.
    func revoke(_ details: [CMPBody.RevocationDetails], client: Client, ca: CertificateAuthority) throws {
        guard case .certificate(_, let certificate, let standing) = client else {
            throw CMPFailure(.notAuthorized, "a revocation is signed with the key of the certificate it revokes")
        }
        guard standing.thing != nil, !ClientRole.isServiceTemplate(standing.template) else {
            throw CMPFailure(.notAuthorized, "only a device's own certificate is revoked over CMP; \(standing.template) certificates are an operator's to revoke")
        }
        guard details.count == 1, let detail = details.first else { throw CMPFailure(.badRequest, "one RevDetails per request") }
        let serial = SerialNumber(certificate.serialNumber)
        guard let asked = detail.serial, Self.magnitude(asked) == Self.magnitude(serial.bytes) else {
            throw CMPFailure(.notAuthorized, "a device revokes only the certificate that signed the request")
        }
        if let issuer = detail.issuer, issuer != (try DERWriter.encoded(certificate.issuer)) {
            throw CMPFailure(.badCertId, "the issuer named is not the certificate's")
        }
        let reason: RevocationReason
        switch detail.reason {
        case nil, 0: reason = .unspecified
        case 1: reason = .keyCompromise
        case 3: reason = .affiliationChanged
        case 4: reason = .superseded
        case 5: reason = .cessationOfOperation
        case let code?: throw CMPFailure(.badRequest, "reason code \(code) is not one a device gives (0, 1, 3, 4 or 5)")
        }
        do {
            _ = try RevocationService(keyring: ca.keyring).revoke(.serial(serial, authority: standing.authority), reason: reason)
        } catch is CRLNotPublished {
            // Recorded: the next CRL publication includes it.
        }
    }

    /// genm: the CA certificates, the next root (RFC 9483 4.3.2: absent until one is
    /// prepared; only newWithNew, as iotca's next root is self-signed and not cross-certified),
    /// the current CRLs of the chain, and no certificate request template (the template
    /// decides, whatever is asked). Types not served are answered without a value.
    func general(_ items: [CMPBody.InfoTypeAndValue], ca: CertificateAuthority) throws -> [UInt8] {
        // Each answer may be large (CRLs): a type asked twice, or more than a few, is refused.
        guard items.count <= 8, Set(items.map(\.type)).count == items.count else {
            throw CMPFailure(.badRequest, "at most 8 InfoTypeAndValues, each type once")
        }
        var answers: [(ASN1ObjectIdentifier, [UInt8]?)] = []
        for item in items {
            switch item.type {
            case Self.caCertsOID:
                let chain = try issuer(authority, ca: ca).chain
                answers.append((Self.caCertsOID, CMPMessageWriter.sequence(of: chain.intermediates + [chain.root])))
            case Self.rootCaCertOID:
                let next = try ca.store.standbyKeys().compactMap(\.certificateDER).first
                answers.append((Self.rootCaKeyUpdateOID, next.map { CMPMessageWriter.sequence(of: [$0]) }))
            case Self.crlStatusListOID:
                let chain = try issuer(authority, ca: ca).chain
                let inChain = Set(chain.intermediates + [chain.root])
                var crls: [[UInt8]] = []
                for authority in try ca.store.authorities() where authority.certificateDER.map(inChain.contains) == true {
                    if let (_, der) = try ca.store.latestCRLDER(of: authority.name) { crls.append(der) }
                }
                answers.append((Self.crlsOID, crls.isEmpty ? nil : CMPMessageWriter.sequence(of: crls)))
            default:
                answers.append((item.type, nil))
            }
        }
        return CMPMessageWriter.generalResponse(answers)
    }
}
