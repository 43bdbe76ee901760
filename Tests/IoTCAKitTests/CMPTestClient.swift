import Crypto
import Foundation
@testable import IoTCAKit
import SwiftASN1
import Testing
import X509

/// A minimal CMP client for the library's tests: MAC-protected requests as `openssl cmp`
/// makes them (the interop tests use that client itself), and readers for the answers.
struct CMPTestClient {
    let thing: String
    let secret: String
    var transactionID = SecureRandom.bytes(16)

    static let ecdsaWithSHA256: [UInt8] = [0x30, 0x0A, 0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x03, 0x02]

    func passwordBasedMAC() throws -> CMPAlgorithms.PasswordBasedMAC {
        var writer = DERWriter()
        writer.element(0x30) { parameters in
            parameters.element(0x04) { $0.append(SecureRandom.bytes(16)) }
            parameters.element(0x30) { $0.append(DERWriter.objectIdentifier([2, 16, 840, 1, 101, 3, 4, 2, 1])) }
            parameters.unsignedInteger(UInt64(500))
            parameters.element(0x30) { $0.append(DERWriter.objectIdentifier([1, 3, 6, 1, 5, 5, 8, 1, 2])) }
        }
        return try CMPAlgorithms.PasswordBasedMAC(parameters: try DER.parse(writer.take()))
    }

    /// A request with body `tag`, protected with the secret, sent at `now`.
    func message(tag: Int, body: [UInt8], now: Date, implicitConfirm: Bool = false, recipientNonce: [UInt8]? = nil) throws -> [UInt8] {
        var header = CMPMessageWriter.Reply()
        header.transactionID = transactionID
        header.recipientNonce = recipientNonce
        header.implicitConfirm = implicitConfirm
        header.authorityName = try DERWriter.encoded(try DistinguishedName { CommonName(thing) })
        return try CMPMessageWriter.message(header, bodyTag: tag, body: body,
                                            protection: .mac(try passwordBasedMAC(), secret: Array(secret.utf8), keyID: Array(thing.utf8)), now: now)
    }

    /// CertReqMessages with one request for `key`, its proof of possession signed by it.
    static func certificationRequest(key: P256.Signing.PrivateKey, subject: String) throws -> [UInt8] {
        var spki = Array(key.publicKey.derRepresentation)
        spki[0] = 0xA6  // [6] IMPLICIT SubjectPublicKeyInfo
        let name = try DERWriter.encoded(try DistinguishedName { CommonName(subject) })
        var request = DERWriter()
        request.element(0x30) { certRequest in
            certRequest.unsignedInteger(UInt64(0))
            certRequest.element(0x30) { template in
                template.element(0xA5) { $0.append(name) }
                template.append(spki)
            }
        }
        let requestDER = request.take()
        let signature = try key.signature(for: requestDER).derRepresentation
        var messages = DERWriter()
        messages.element(0x30) { list in
            list.element(0x30) { message in
                message.append(requestDER)
                message.element(0xA1) { proof in
                    proof.append(ecdsaWithSHA256)
                    proof.element(0x03) { $0.append([0]); $0.append(Array(signature)) }
                }
            }
        }
        return messages.take()
    }

    /// CertConfirmContent for `certificate`, accepted unless `rejected`.
    static func confirmation(of certificate: [UInt8], rejected: Bool = false, hash: [UInt8]? = nil) -> [UInt8] {
        var writer = DERWriter()
        writer.element(0x30) { list in
            list.element(0x30) { status in
                status.element(0x04) { $0.append(hash ?? Array(SHA256.hash(data: certificate))) }
                status.unsignedInteger(UInt64(0))
                if rejected { status.append(CMPMessageWriter.statusInfo(2, text: "not for me")) }
            }
        }
        return writer.take()
    }

    /// GenMsgContent asking for each of `types`.
    static func general(_ types: [ASN1ObjectIdentifier]) -> [UInt8] {
        var writer = DERWriter()
        writer.element(0x30) { list in for type in types { list.element(0x30) { $0.append(DERWriter.objectIdentifier(type)) } } }
        return writer.take()
    }
}

/// An answer taken apart.
struct CMPTestAnswer {
    let header: CMPMessage.Header
    let bodyTag: Int
    let body: ASN1Node
    let protectedPart: [UInt8]
    let protection: [UInt8]?

    init(_ der: [UInt8]) throws {
        let items = try ASN1Reading.children(of: try DER.parse(der), expecting: .sequence)
        // The header parses as a request's does; the body is read here.
        let message = try? CMPMessage(derEncoded: der)
        header = try #require(message?.header)
        bodyTag = try #require(ASN1Reading.contextTag(items[1]))
        body = try ASN1Reading.explicit(items[1])
        protectedPart = try #require(message?.protectedPart)
        protection = message?.protection
    }

    /// The certificate of an ip, cp or kup.
    var certificate: [UInt8]? {
        guard let rep = try? ASN1Reading.children(of: body, expecting: .sequence),
              let responses = rep.last, let response = try? ASN1Reading.children(of: responses, expecting: .sequence).first,
              let fields = try? ASN1Reading.children(of: response, expecting: .sequence), fields.count > 2,
              let pair = try? ASN1Reading.children(of: fields[2], expecting: .sequence).first,
              let certificate = try? ASN1Reading.explicit(pair) else { return nil }
        return Array(certificate.encodedBytes)
    }

    /// The InfoTypeAndValues of a genp.
    var generalItems: [(ASN1ObjectIdentifier, ASN1Node?)] {
        ((try? ASN1Reading.children(of: body, expecting: .sequence)) ?? []).compactMap { item in
            guard let parts = try? ASN1Reading.children(of: item, expecting: .sequence), let type = parts.first,
                  let oid = try? ASN1ObjectIdentifier(derEncoded: type) else { return nil }
            return (oid, parts.dropFirst().first)
        }
    }

    /// Whether the protection is a MAC keyed with `secret`.
    func isMACProtected(with secret: String) throws -> Bool {
        let algorithm = try #require(header.protectionAlgorithm)
        let (oid, parameters) = try ASN1Reading.oid(try DER.parse(algorithm))
        guard oid == CMPAlgorithms.passwordBasedMAC else { return false }
        let pbm = try CMPAlgorithms.PasswordBasedMAC(parameters: parameters)
        return pbm.authenticate(protectedPart, secret: Array(secret.utf8)) == protection
    }
}
