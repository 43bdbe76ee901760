import Foundation
import X509

extension CMPResponder {
    /// What an ir, cr, p10cr or kur asks for.
    struct IssuanceAsk {
        let key: RequestedKey
        let subject: DistinguishedName?
        let subjectAltNames: SubjectAlternativeNames?
        let keyUpdate: Bool
        let certReqId: Int
        /// ip, cp or kup.
        let responseTag: Int
    }

    /// Issues what `ask` asks for and answers with the certificate. Unless the client asked
    /// for implicit confirmation (granted whenever asked), the transaction is reserved in the
    /// store before anything is issued, and the certificate bound to it after: a process killed
    /// between the two leaves a reservation that the timer binds, through the issuance's audit
    /// event (its client names the transaction), and withdraws; one killed before the issuance
    /// leaves a reservation it drops.
    func issue(_ ask: IssuanceAsk, message: CMPMessage, client: Client, label: String?, ca: CertificateAuthority, now: Date,
               reply: inout CMPMessageWriter.Reply) throws -> (Int, [UInt8], [[UInt8]]) {
        let (thing, hold) = try plan(ask, client: client, ca: ca)
        let transaction = (message.header.transactionID ?? []).hexString
        let held = !message.header.implicitConfirm
        if held {
            guard try ca.store.reserveConfirmation(transactionID: transaction, thing: thing, nonce: reply.senderNonce.hexString, hold: hold,
                                                   due: now.addingTimeInterval(confirmationWait)) else {
                throw CMPFailure(.transactionIdInUse, "this transaction already has a certificate awaiting confirmation")
            }
        } else if try ca.store.pendingConfirmation(transactionID: transaction) != nil {
            throw CMPFailure(.transactionIdInUse, "this transaction already has a certificate awaiting confirmation")
        }
        let result: IssueResult
        do {
            result = try AuditEvent.$client.withValue(Self.auditClient(transaction)) {
                switch client {
                case .certificate(let der, _, _) where ask.keyUpdate:
                    // Held, the current certificate is superseded only once the new one is confirmed.
                    return try ca.reenrol(current: der, key: ask.key, subject: ask.subject, subjectAltNames: ask.subjectAltNames,
                                          template: label, supersede: !held)
                case .certificate(let der, _, _):
                    return try ca.enrol(claim: der, thing: thing, key: ask.key, template: label)
                case .secret(_, let secret, _, _, _, _):
                    return try ca.enrol(thing: thing, secret: secret, key: ask.key, template: label)
                }
            }
        } catch {
            // A refusal recorded nothing: the reservation goes. After any other failure (the
            // store lost mid-commit) the certificate may exist: the timer decides, by the audit log.
            if held && Self.refusedBeforeRecording(error) { try? ca.store.dropReservation(transactionID: transaction) }
            throw error
        }
        if held {
            do {
                try ca.store.bindConfirmation(transactionID: transaction, serial: result.entry.serial, authority: result.entry.authority)
            } catch {
                // Not held, the certificate would never be withdrawn: it goes now, what the
                // request spent is given back, and the client, told of the failure, tries again.
                _ = try? RevocationService(keyring: ca.keyring).revoke(.serial(result.entry.serial, authority: result.entry.authority),
                                                                      reason: .cessationOfOperation)
                if let token = hold.token { try? ca.store.restoreEnrolmentToken(token) }
                if hold.kind == .claimReopened { try? ca.store.restoreClaimOpening(thing, at: now) }
                try? ca.store.dropReservation(transactionID: transaction)
                throw error
            }
        } else {
            reply.implicitConfirm = true
        }
        let chain = try issuer(result.entry.authority, ca: ca).chain
        var status = CMPMessageWriter.statusInfo(0)
        if let asked = ask.subject, asked != (try? Certificate(derEncoded: result.entry.der).subject) {
            status = CMPMessageWriter.statusInfo(1, text: "the template decides the subject")
        }
        // caPubs only under a MAC: the shared secret is what vouches for the root there.
        let caPubs = hold.kind == .token ? [chain.root] : []
        return (ask.responseTag,
                CMPMessageWriter.certificateResponse(certReqId: ask.certReqId, status: status, certificate: result.entry.der, caPubs: caPubs),
                chain.intermediates + [chain.root])
    }

    static func refusedBeforeRecording(_ error: any Error) -> Bool {
        error is CMPFailure || error is PolicyError || error is AccessDenied || error is EnrolmentError || error is IssuanceConflict
            || error is AuthorityError
    }

    /// The audit client of a CMP issuance: its transaction, which is how a reservation finds
    /// its certificate after a crash.
    static func auditClient(_ transaction: String) -> String { "cmp:" + transaction }

    /// The thing the request is for, and what it spends: a token's thing; a claim's new thing
    /// (the subject's common name; an operator's re-opening spent if it had certificates); a
    /// device's own thing for a key update. Other certificates enrol nothing.
    private func plan(_ ask: IssuanceAsk, client: Client, ca: CertificateAuthority) throws -> (thing: String, hold: CMPHold) {
        switch client {
        case .secret(let thing, _, _, _, _, _):
            guard !ask.keyUpdate else { throw CMPFailure(.notAuthorized, "a key update is signed with the certificate being updated") }
            return (thing, Self.hold(client, claimReopened: false))
        case .certificate(_, _, let standing) where ask.keyUpdate:
            guard let thing = standing.thing, !ClientRole.isServiceTemplate(standing.template) else {
                throw CMPFailure(.notAuthorized, "only a device's certificate updates its key; \(standing.template) certificates do not")
            }
            return (thing, Self.hold(client, claimReopened: false))
        case .certificate(_, _, let standing):
            guard standing.template == CertificateAuthority.claimTemplate else {
                throw CMPFailure(.notAuthorized, "a \(standing.template) certificate cannot enrol things: devices update their key with kur, new devices enrol with a token or a claim")
            }
            guard let thing = ask.subject?.commonNames.first else {
                throw CMPFailure(.badCertTemplate, "a request made with a claim names its thing as the subject's common name")
            }
            return (thing, Self.hold(client, claimReopened: try !ca.store.history(thing: thing).isEmpty))
        }
    }
}
