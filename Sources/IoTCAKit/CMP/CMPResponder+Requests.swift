import Crypto
import Foundation
import SwiftASN1
import X509

extension CMPResponder {
    static let caCertsOID: ASN1ObjectIdentifier = [1, 3, 6, 1, 5, 5, 7, 4, 17]
    static let rootCaKeyUpdateOID: ASN1ObjectIdentifier = [1, 3, 6, 1, 5, 5, 7, 4, 18]
    static let certReqTemplateOID: ASN1ObjectIdentifier = [1, 3, 6, 1, 5, 5, 7, 4, 19]
    static let rootCaCertOID: ASN1ObjectIdentifier = [1, 3, 6, 1, 5, 5, 7, 4, 20]
    static let crlStatusListOID: ASN1ObjectIdentifier = [1, 3, 6, 1, 5, 5, 7, 4, 22]
    static let crlsOID: ASN1ObjectIdentifier = [1, 3, 6, 1, 5, 5, 7, 4, 23]

    /// The answer's body tag, body and extra certificates for an authenticated request.
    func answer(_ message: CMPMessage, client: Client, label: String?, ca: CertificateAuthority, now: Date,
                reply: inout CMPMessageWriter.Reply) throws -> (Int, [UInt8], [[UInt8]]) {
        switch message.body {
        case .certification(let kind, let requests):
            guard requests.count == 1, let request = requests.first else {
                throw CMPFailure(.badRequest, "one certificate request per message (RFC 9483 4.1)")
            }
            try checkTransactionUnused(message, ca: ca)
            let key = RequestedKey.proven(try request.provenKey())
            let result: IssueResult
            var claimReopened = false
            switch (kind, client) {
            case (.kur, .certificate(let der, let current, _)):
                if let old = request.oldCertificate, Self.magnitude(old.serial) != Self.magnitude(Array(current.serialNumber.bytes)) {
                    throw CMPFailure(.badCertId, "the oldCertID control names another certificate than the one that signed the request")
                }
                // Held for confirmation, the current certificate is superseded only once confirmed.
                result = try ca.reenrol(current: der, key: key, subject: request.subject, subjectAltNames: request.subjectAltNames, template: label,
                                        supersede: message.header.implicitConfirm)
            case (.kur, .secret):
                throw CMPFailure(.notAuthorized, "a key update is signed with the certificate being updated")
            case (_, _):
                (result, claimReopened) = try enrol(client, key: key, subject: request.subject, label: label, ca: ca)
            }
            return try issued(result, certReqId: request.certReqId, tag: kind.responseTag, message: message,
                              hold: Self.hold(client, claimReopened: claimReopened), ca: ca, now: now, reply: &reply)
        case .pkcs10(let csr):
            try checkTransactionUnused(message, ca: ca)
            let subject = try? CertificateSigningRequest(derEncoded: csr).subject
            let (result, claimReopened) = try enrol(client, key: .csr(csr), subject: subject, label: label, ca: ca)
            // RFC 9810 5.3.4: a p10cr has no certReqId of its own; the answer's is -1.
            return try issued(result, certReqId: -1, tag: 3, message: message, hold: Self.hold(client, claimReopened: claimReopened), ca: ca,
                              now: now, reply: &reply)
        case .certConf(let statuses):
            return (CMPMessageWriter.bodyTags.pkiConf, [0x05, 0x00], try confirm(statuses, message: message, client: client, ca: ca, now: now))
        case .revocation(let details):
            try revoke(details, client: client, ca: ca)
            return (CMPMessageWriter.bodyTags.rp, CMPMessageWriter.revocationResponse(status: CMPMessageWriter.statusInfo(0)), [])
        case .general(let items):
            return (CMPMessageWriter.bodyTags.genp, try general(items, ca: ca), [])
        case .error:
            // The client gives up on the transaction: what it was sent is withdrawn now.
            try withdrawOnClientError(message, client: client, ca: ca, now: now)
            return (CMPMessageWriter.bodyTags.pkiConf, [0x05, 0x00], [])
        case .other(let tag):
            throw CMPFailure(.badRequest, "body type \(tag) is not served (ir, cr, p10cr, kur, rr, certConf and genm are)")
        }
    }

    /// A first enrolment: with the thing's token, or with a claim certificate for the thing
    /// the subject's common name names. Other certificates update their key with kur.
    /// Also says whether a claim spent an operator's re-opening of the thing (given back if the
    /// certificate is withdrawn).
    private func enrol(_ client: Client, key: RequestedKey, subject: DistinguishedName?, label: String?, ca: CertificateAuthority) throws
        -> (IssueResult, claimReopened: Bool) {
        switch client {
        case .secret(let thing, let secret, _, _, _, _):
            return (try ca.enrol(thing: thing, secret: secret, key: key, template: label), false)
        case .certificate(let der, _, let standing):
            guard standing.template == CertificateAuthority.claimTemplate else {
                throw CMPFailure(.notAuthorized, "a \(standing.template) certificate cannot enrol things: devices update their key with kur, new devices enrol with a token or a claim")
            }
            guard let thing = subject?.commonNames.first else {
                throw CMPFailure(.badCertTemplate, "a request made with a claim names its thing as the subject's common name")
            }
            let reopened = try !ca.store.history(thing: thing).isEmpty
            return (try ca.enrol(claim: der, thing: thing, key: key, template: label), reopened)
        }
    }

    /// ip, cp or kup with the certificate, held for confirmation unless the client asked for
    /// implicit confirmation (granted whenever asked).
    private func issued(_ result: IssueResult, certReqId: Int, tag: Int, message: CMPMessage, hold: CMPHold, ca: CertificateAuthority,
                        now: Date, reply: inout CMPMessageWriter.Reply) throws -> (Int, [UInt8], [[UInt8]]) {
        let chain = try issuer(result.entry.authority, ca: ca).chain
        if message.header.implicitConfirm {
            reply.implicitConfirm = true
        } else {
            do {
                try ca.store.holdForConfirmation(serial: result.entry.serial, authority: result.entry.authority,
                                                 transactionID: (message.header.transactionID ?? []).hexString, nonce: reply.senderNonce.hexString,
                                                 hold: hold, due: now.addingTimeInterval(confirmationWait))
            } catch {
                // Not held, the certificate would never be withdrawn: it goes now, what the
                // request spent is given back, and the client, told of the failure, tries again.
                _ = try? RevocationService(keyring: ca.keyring).revoke(.serial(result.entry.serial, authority: result.entry.authority),
                                                                      reason: .cessationOfOperation)
                if let token = hold.token { try? ca.store.restoreEnrolmentToken(token) }
                if hold.kind == .claimReopened, let thing = result.entry.thing { try? ca.store.restoreClaimOpening(thing, at: now) }
                throw error
            }
        }
        var status = CMPMessageWriter.statusInfo(0)
        if let asked = message.requestedSubject, asked != (try? Certificate(derEncoded: result.entry.der).subject) {
            status = CMPMessageWriter.statusInfo(1, text: "the template decides the subject")
        }
        // caPubs only under a MAC: the shared secret is what vouches for the root there.
        let caPubs = hold.kind == .token ? [chain.root] : []
        return (tag, CMPMessageWriter.certificateResponse(certReqId: certReqId, status: status, certificate: result.entry.der, caPubs: caPubs),
                chain.intermediates + [chain.root])
    }

    static func credential(_ client: Client) -> String {
        switch client {
        case .secret(_, let secret, _, _, _, _): "mac:" + secret
        case .certificate(let der, _, _): "cert:" + Array(SHA256.hash(data: der)).hexString
        }
    }

    /// What a held certificate's request spent, to give back if it is withdrawn.
    static func hold(_ client: Client, claimReopened: Bool) -> CMPHold {
        switch client {
        case .secret(_, _, _, _, _, let token):
            CMPHold(kind: .token, credential: credential(client), token: token)
        case .certificate(_, _, let standing) where standing.template == CertificateAuthority.claimTemplate:
            CMPHold(kind: claimReopened ? .claimReopened : .claim, credential: credential(client))
        case .certificate(_, let certificate, let standing):
            CMPHold(kind: .device, credential: credential(client), replaces: (SerialNumber(certificate.serialNumber), standing.authority))
        }
    }

    /// A new request in a transaction whose certificate still awaits confirmation is refused
    /// before anything is issued (RFC 9810 5.3.21 transactionIdInUse).
    private func checkTransactionUnused(_ message: CMPMessage, ca: CertificateAuthority) throws {
        if try ca.store.pendingConfirmation(transactionID: (message.header.transactionID ?? []).hexString) != nil {
            throw CMPFailure(.transactionIdInUse, "this transaction already has a certificate awaiting confirmation")
        }
    }

    static func magnitude(_ bytes: [UInt8]) -> [UInt8] { Array(bytes.drop { $0 == 0 }) }
}

extension CMPMessage {
    /// The subject the request asked for, to say when the template changed it.
    var requestedSubject: DistinguishedName? {
        switch body {
        case .certification(_, let requests): requests.first?.subject
        case .pkcs10(let csr): try? CertificateSigningRequest(derEncoded: csr).subject
        default: nil
        }
    }
}

extension CMPBody {
    /// The request's name as clients and RFC 9483 call it.
    var name: String {
        switch self {
        case .certification(let kind, _): "\(kind)"
        case .pkcs10: "p10cr"
        case .revocation: "rr"
        case .certConf: "certConf"
        case .general: "genm"
        case .error: "error"
        // A fixed set: the name labels a metric, and a client chooses the tag.
        case .other: "other"
        }
    }
}
