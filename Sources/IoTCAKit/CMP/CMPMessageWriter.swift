import Foundation
import SwiftASN1

/// Writes the CA's answers as PKIMessages (RFC 9810 5.1), protected the way the request was:
/// with the same shared secret when the client proved it by a MAC (RFC 9483 4.1.5), otherwise
/// signed by the CMP signer, its certificate and chain first in extraCerts (3.3).
enum CMPMessageWriter {
    enum Protection: Sendable {
        /// The PBM parameters and the base key they give with the shared secret.
        case mac(CMPAlgorithms.PasswordBasedMAC, baseKey: [UInt8], keyID: [UInt8]?)
        case signature(CMPSigner)
    }

    /// What the answer's header echoes from the request.
    struct Reply: Sendable {
        var pvno: Int = 2
        /// The request's sender (GeneralName DER), the answer's recipient.
        var recipient: [UInt8] = [0xA4, 0x02, 0x30, 0x00]
        var transactionID: [UInt8]?
        var recipientNonce: [UInt8]?
        /// The CA's name (Name DER): the sender of MAC-protected answers.
        var authorityName: [UInt8] = [0x30, 0x00]
        var implicitConfirm = false
        /// This answer's senderNonce, which a certConf must repeat.
        var senderNonce: [UInt8] = SecureRandom.bytes(16)
    }

    static let bodyTags = (pkiConf: 19, rp: 12, genp: 22, error: 23)

    static func message(_ reply: Reply, bodyTag: Int, body: [UInt8], protection: Protection, now: Date,
                        extraCerts: [[UInt8]] = []) throws -> [UInt8] {
        var header = DERWriter()
        header.element(0x30) { h in
            h.unsignedInteger(UInt64(reply.pvno))
            switch protection {
            case .mac: h.element(0xA4) { $0.append(reply.authorityName) }
            case .signature(let signer): h.element(0xA4) { $0.append(signer.subjectDER) }
            }
            h.append(reply.recipient)
            h.element(0xA0) { $0.generalizedTime(Int64(now.timeIntervalSince1970.rounded(.down))) }
            h.element(0xA1) {
                switch protection {
                case .mac(let pbm, _, _): $0.append(pbm.algorithmIdentifierDER)
                case .signature(let signer): $0.append(signer.algorithm.signatureAlgorithmIdentifierDER)
                }
            }
            let keyID: [UInt8]? = switch protection {
            case .mac(_, _, let id): id
            case .signature(let signer): signer.keyIdentifier
            }
            if let keyID { h.element(0xA2) { $0.element(0x04) { $0.append(keyID) } } }
            if let id = reply.transactionID { h.element(0xA4) { $0.element(0x04) { $0.append(id) } } }
            h.element(0xA5) { $0.element(0x04) { $0.append(reply.senderNonce) } }
            if let nonce = reply.recipientNonce { h.element(0xA6) { $0.element(0x04) { $0.append(nonce) } } }
            if reply.implicitConfirm {
                h.element(0xA8) { info in
                    info.element(0x30) { item in
                        item.element(0x30) { $0.append(DERWriter.objectIdentifier(CMPMessage.implicitConfirmOID)); $0.append([0x05, 0x00]) }
                    }
                }
            }
        }
        var bodyWriter = DERWriter()
        bodyWriter.element(0xA0 | UInt8(bodyTag)) { $0.append(body) }
        let headerBytes = header.take(), bodyBytes = bodyWriter.take()
        var part = DERWriter()
        part.element(0x30) { $0.append(headerBytes); $0.append(bodyBytes) }
        let protectedPart = part.take()
        let protectionBits: [UInt8]
        var certificates = extraCerts
        switch protection {
        case .mac(let pbm, let baseKey, _):
            protectionBits = pbm.authenticate(protectedPart, baseKey: baseKey)
        case .signature(let signer):
            protectionBits = try signer.sign(protectedPart)
            certificates = [signer.certificateDER] + signer.chain + extraCerts.filter { !signer.chain.contains($0) }
        }
        var message = DERWriter()
        message.element(0x30) { m in
            m.append(headerBytes)
            m.append(bodyBytes)
            m.element(0xA0) { $0.element(0x03) { $0.append([0]); $0.append(protectionBits) } }
            if !certificates.isEmpty {
                m.element(0xA1) { $0.element(0x30) { list in for certificate in certificates { list.append(certificate) } } }
            }
        }
        return message.take()
    }

    /// PKIStatusInfo: status, a text, and the failure bit of a refusal.
    static func statusInfo(_ status: Int, text: String? = nil, failure: CMPFailure? = nil) -> [UInt8] {
        var writer = DERWriter()
        writer.element(0x30) { info in
            info.unsignedInteger(UInt64(status))
            if let text = text ?? failure?.reason {
                info.element(0x30) { $0.element(0x0C) { $0.append(Array(text.utf8)) } }
            }
            if let failure { info.element(0x03) { $0.append(failure.bitStringContents) } }
        }
        return writer.take()
    }

    /// CertRepMessage (ip, cp, kup): one CertResponse, the certificate when granted; caPubs
    /// only for MAC-protected answers, which is what lets the client trust them.
    static func certificateResponse(certReqId: Int, status: [UInt8], certificate: [UInt8]?, caPubs: [[UInt8]] = []) -> [UInt8] {
        var writer = DERWriter()
        writer.element(0x30) { rep in
            if !caPubs.isEmpty { rep.element(0xA1) { $0.element(0x30) { list in for ca in caPubs { list.append(ca) } } } }
            rep.element(0x30) { responses in
                responses.element(0x30) { response in
                    // -1 answers a p10cr, which has no id of its own.
                    if certReqId < 0 { response.append([0x02, 0x01, 0xFF]) } else { response.unsignedInteger(UInt64(certReqId)) }
                    response.append(status)
                    if let certificate {
                        response.element(0x30) { pair in pair.element(0xA0) { $0.append(certificate) } }
                    }
                }
            }
        }
        return writer.take()
    }

    /// RevRepContent with one status.
    static func revocationResponse(status: [UInt8]) -> [UInt8] {
        var writer = DERWriter()
        writer.element(0x30) { $0.element(0x30) { $0.append(status) } }
        return writer.take()
    }

    /// GenRepContent: InfoTypeAndValue each, the value absent when there is none (RFC 9483 4.3).
    static func generalResponse(_ items: [(ASN1ObjectIdentifier, [UInt8]?)]) -> [UInt8] {
        var writer = DERWriter()
        writer.element(0x30) { list in
            for (type, value) in items {
                list.element(0x30) { item in
                    item.append(DERWriter.objectIdentifier(type))
                    if let value { item.append(value) }
                }
            }
        }
        return writer.take()
    }

    /// ErrorMsgContent: the refusal, its failure bit and text.
    static func errorContent(_ failure: CMPFailure) -> [UInt8] {
        var writer = DERWriter()
        writer.element(0x30) { $0.append(statusInfo(2, failure: failure)) }
        return writer.take()
    }

    static func sequence(of items: [[UInt8]]) -> [UInt8] {
        var writer = DERWriter()
        writer.element(0x30) { list in for item in items { list.append(item) } }
        return writer.take()
    }
}
