import Foundation
import SwiftASN1

/// The request bodies a CA answers (RFC 9810 5.1.2; the Lightweight CMP profile, RFC 9483).
enum CMPBody: Sendable {
    enum RequestKind: Int, Sendable {
        case ir = 0, cr = 2, kur = 7
        /// ip, cp, kup: the answer's body tag.
        var responseTag: Int { rawValue + 1 }
    }

    case certification(RequestKind, [CertRequestMessage])
    case pkcs10([UInt8])
    case revocation([RevocationDetails])
    case certConf([CertStatus])
    case general([InfoTypeAndValue])
    case error
    case other(tag: Int)

    struct CertStatus: Sendable {
        let certHash: [UInt8]
        let certReqId: Int
        /// nil or 0/1: the client accepts; anything else rejects.
        let status: Int?
        let reason: String?
        /// hashAlg (CMP v3), AlgorithmIdentifier DER.
        let hashAlgorithm: [UInt8]?
    }

    struct RevocationDetails: Sendable {
        let serial: [UInt8]?
        /// The issuer Name, DER.
        let issuer: [UInt8]?
        let reason: Int?
    }

    struct InfoTypeAndValue: Sendable {
        let type: ASN1ObjectIdentifier
        let value: ASN1Node?
    }

    static let reasonCodeOID: ASN1ObjectIdentifier = [2, 5, 29, 21]

    init(_ node: ASN1Node) throws {
        guard let tag = ASN1Reading.contextTag(node) else { throw CMPFailure(.badDataFormat, "the body is not a tagged PKIBody") }
        let content = try ASN1Reading.explicit(node)
        switch tag {
        case 0, 2, 7:
            let kind = RequestKind(rawValue: tag) ?? .ir
            let messages = try ASN1Reading.children(of: content, expecting: .sequence).map(CertRequestMessage.init)
            guard !messages.isEmpty else { throw CMPFailure(.badRequest, "no certificate request in the message") }
            self = .certification(kind, messages)
        case 4:
            self = .pkcs10(Array(content.encodedBytes))
        case 11:
            self = .revocation(try ASN1Reading.children(of: content, expecting: .sequence).map(Self.revocationDetails))
        case 21:
            self = .general(try ASN1Reading.children(of: content, expecting: .sequence).map { item in
                let parts = try ASN1Reading.children(of: item, expecting: .sequence)
                guard let type = parts.first else { throw CMPFailure(.badDataFormat, "an empty InfoTypeAndValue") }
                return InfoTypeAndValue(type: try ASN1ObjectIdentifier(derEncoded: type), value: parts.dropFirst().first)
            })
        case 23:
            self = .error
        case 24:
            self = .certConf(try ASN1Reading.children(of: content, expecting: .sequence).map(Self.certStatus))
        default:
            self = .other(tag: tag)
        }
    }

    private static func certStatus(_ node: ASN1Node) throws -> CertStatus {
        let parts = try ASN1Reading.children(of: node, expecting: .sequence)
        guard parts.count >= 2 else { throw CMPFailure(.badDataFormat, "a CertStatus has a hash and a request id") }
        var status: Int?, reason: String?, hashAlgorithm: [UInt8]?
        for part in parts.dropFirst(2) {
            if part.identifier == .sequence {
                let info = try ASN1Reading.children(of: part, expecting: .sequence)
                status = try info.first.map { try Int(derEncoded: $0) }
                if info.count > 1, info[1].identifier == .sequence {
                    reason = try ASN1Reading.children(of: info[1], expecting: .sequence).compactMap { try? String(ASN1UTF8String(derEncoded: $0)) }
                        .joined(separator: "; ")
                }
            } else if ASN1Reading.contextTag(part) == 0 {
                hashAlgorithm = Array(try ASN1Reading.explicit(part).encodedBytes)
            }
        }
        return CertStatus(certHash: Array(try ASN1OctetString(derEncoded: parts[0]).bytes), certReqId: try Int(derEncoded: parts[1]),
                          status: status, reason: reason, hashAlgorithm: hashAlgorithm)
    }

    private static func revocationDetails(_ node: ASN1Node) throws -> RevocationDetails {
        let parts = try ASN1Reading.children(of: node, expecting: .sequence)
        guard let template = parts.first, case .constructed(let fields) = template.content else {
            throw CMPFailure(.badDataFormat, "a RevDetails names its certificate in a CertTemplate")
        }
        var serial: [UInt8]?, issuer: [UInt8]?, reason: Int?
        for field in fields {
            switch ASN1Reading.contextTag(field) {
            case 1:  // serialNumber [1] IMPLICIT INTEGER
                guard case .primitive(let bytes) = field.content else { throw CMPFailure(.badDataFormat, "the serial is not an INTEGER") }
                serial = Array(bytes)
            case 3: issuer = Array(try ASN1Reading.explicit(field).encodedBytes)
            default: break
            }
        }
        if parts.count > 1 {
            for extensionNode in try ASN1Reading.children(of: parts[1], expecting: .sequence) {
                let items = try ASN1Reading.children(of: extensionNode, expecting: .sequence)
                guard let first = items.first, try ASN1ObjectIdentifier(derEncoded: first) == reasonCodeOID, let value = items.last else { continue }
                let wrapped = try ASN1OctetString(derEncoded: value)
                let enumerated = try DER.parse(Array(wrapped.bytes))
                guard case .primitive(let bytes) = enumerated.content, enumerated.identifier == .enumerated, bytes.count == 1 else {
                    throw CMPFailure(.badDataFormat, "the reason code is not an ENUMERATED")
                }
                reason = Int(bytes[bytes.startIndex])
            }
        }
        return RevocationDetails(serial: serial, issuer: issuer, reason: reason)
    }
}
