import Foundation

/// What the responder says about one certificate (RFC 6960 4.2.1 CertStatus).
public enum OCSPCertificateStatus: Sendable, Equatable {
    case good
    case revoked(at: Int64, reason: RevocationReason)
    case unknown
}

/// Writes OCSP responses (RFC 6960 4.2.1) in DER, as `CRLBuilder` writes CRLs: swift-certificates
/// has OCSP types, but only for its own client side (they are internal).
enum OCSPResponseWriter {
    /// responseStatus values (4.2.1).
    enum Status: UInt8 {
        case successful = 0, malformedRequest = 1, internalError = 2, tryLater = 3, unauthorized = 6
    }

    /// An OCSPResponse without responseBytes: every status but `successful`.
    static func unsuccessful(_ status: Status) -> [UInt8] {
        [0x30, 0x03, 0x0A, 0x01, status.rawValue]
    }

    /// One SingleResponse: the CertID as asked, the status, thisUpdate and nextUpdate.
    struct Single {
        let certID: [UInt8]
        let status: OCSPCertificateStatus
        let thisUpdate: Int64
        let nextUpdate: Int64
    }

    /// A successful response: a BasicOCSPResponse signed by the delegated signer, whose
    /// certificate goes along in `certs` so clients can check it against the CA (4.2.2.2).
    static func successful(_ singles: [Single], producedAt: Int64, nonceExtension: [UInt8]?, signer: OCSPSigner) throws -> [UInt8] {
        var data = DERWriter(capacity: 256)
        data.element(0x30) { tbs in
            // version v1 is the DEFAULT: absent. responderID byKey [2] EXPLICIT KeyHash.
            tbs.element(0xA2) { $0.header(0x04, count: signer.keyHash.count); $0.append(signer.keyHash) }
            tbs.generalizedTime(producedAt)
            tbs.element(0x30) { responses in
                for single in singles {
                    responses.element(0x30) { response in
                        response.append(single.certID)
                        switch single.status {
                        case .good: response.append([0x80, 0x00])
                        case .unknown: response.append([0x82, 0x00])
                        case .revoked(let at, let reason):
                            response.element(0xA1) { info in
                                info.generalizedTime(at)
                                // RFC 5280 5.3.1: leave unspecified out rather than write it.
                                if reason != .unspecified { info.append([0xA0, 0x03, 0x0A, 0x01, reason.code]) }
                            }
                        }
                        response.generalizedTime(single.thisUpdate)
                        response.element(0xA0) { $0.generalizedTime(single.nextUpdate) }
                    }
                }
            }
            if let nonceExtension {
                tbs.element(0xA1) { $0.element(0x30) { $0.append(nonceExtension) } }
            }
        }
        let signature = try signer.sign(data.bytes)
        let algorithm = signer.algorithm.signatureAlgorithmIdentifierDER
        var basic = DERWriter(capacity: data.bytes.count + signature.count + signer.certificateDER.count + 64)
        basic.element(0x30) { body in
            body.append(data.bytes)
            body.append(algorithm)
            body.header(0x03, count: signature.count + 1)
            body.append([0x00])
            body.append(signature)
            body.element(0xA0) { $0.element(0x30) { $0.append(signer.certificateDER) } }
        }
        var response = DERWriter(capacity: basic.bytes.count + 32)
        response.element(0x30) { top in
            top.append([0x0A, 0x01, Status.successful.rawValue])
            top.element(0xA0) { explicit in
                explicit.element(0x30) { bytes in
                    // id-pkix-ocsp-basic 1.3.6.1.5.5.7.48.1.1
                    bytes.append([0x06, 0x09, 0x2B, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x01])
                    bytes.header(0x04, count: basic.bytes.count)
                    bytes.append(basic.bytes)
                }
            }
        }
        return response.bytes
    }
}
