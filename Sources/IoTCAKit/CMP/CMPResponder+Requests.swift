import Crypto
import Foundation
import SwiftASN1
import X509

extension CMPResponder {
    static let caCertsOID: ASN1ObjectIdentifier = [1, 3, 6, 1, 5, 5, 7, 4, 17]
    static let rootCaKeyUpdateOID: ASN1ObjectIdentifier = [1, 3, 6, 1, 5, 5, 7, 4, 18]
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
            if kind == .kur, case .certificate(_, let current, _) = client, let old = request.oldCertificate,
               Self.magnitude(old.serial) != Self.magnitude(Array(current.serialNumber.bytes)) {
                throw CMPFailure(.badCertId, "the oldCertID control names another certificate than the one that signed the request")
            }
            let ask = IssuanceAsk(key: .proven(try request.provenKey()), subject: request.subject, subjectAltNames: request.subjectAltNames,
                                  keyUpdate: kind == .kur, certReqId: request.certReqId, responseTag: kind.responseTag)
            return try issue(ask, message: message, client: client, label: label, ca: ca, now: now, reply: &reply)
        case .pkcs10(let csr):
            // RFC 9810 5.3.4: a p10cr has no certReqId of its own; the answer's is -1.
            let ask = IssuanceAsk(key: .csr(csr), subject: try? CertificateSigningRequest(derEncoded: csr).subject, subjectAltNames: nil,
                                  keyUpdate: false, certReqId: -1, responseTag: 3)
            return try issue(ask, message: message, client: client, label: label, ca: ca, now: now, reply: &reply)
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

    static func magnitude(_ bytes: [UInt8]) -> [UInt8] { Array(bytes.drop { $0 == 0 }) }
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
