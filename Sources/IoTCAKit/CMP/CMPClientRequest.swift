import Crypto
import Foundation
import SwiftASN1
import X509

/// A device's side of CMP, minimal: MAC-protected requests as `openssl cmp` makes them (PBM,
/// SHA-256, 500 iterations, HMAC-SHA1), for the library's tests and `iotca-bench cmp`.
/// Devices themselves use a CMP client (OpenSSL's, or their vendor's).
public struct CMPClientRequest: Sendable {
    public let thing: String
    public let secret: String
    public var transactionID = SecureRandom.bytes(16)

    public init(thing: String, secret: String) {
        self.thing = thing
        self.secret = secret
    }

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
    public func message(tag: Int, body: [UInt8], now: Date, implicitConfirm: Bool = false, recipientNonce: [UInt8]? = nil) throws -> [UInt8] {
        var header = CMPMessageWriter.Reply()
        header.transactionID = transactionID
        header.recipientNonce = recipientNonce
        header.implicitConfirm = implicitConfirm
        header.authorityName = try DERWriter.encoded(try DistinguishedName { CommonName(thing) })
        let pbm = try passwordBasedMAC()
        return try CMPMessageWriter.message(header, bodyTag: tag, body: body,
                                            protection: .mac(pbm, baseKey: pbm.baseKey(secret: Array(secret.utf8)), keyID: Array(thing.utf8)), now: now)
    }

    /// CertReqMessages with one request for `key`, its proof of possession signed by it.
    public static func certificationRequest(key: P256.Signing.PrivateKey, subject: String) throws -> [UInt8] {
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
    public static func confirmation(of certificate: [UInt8], rejected: Bool = false, hash: [UInt8]? = nil) -> [UInt8] {
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
    public static func general(_ types: [ASN1ObjectIdentifier]) -> [UInt8] {
        var writer = DERWriter()
        writer.element(0x30) { list in for type in types { list.element(0x30) { $0.append(DERWriter.objectIdentifier(type)) } } }
        return writer.take()
    }
}

extension CMPClientRequest {
    /// What a client reads from an answer: the body's tag (1 ip, 3 cp, 8 kup, 19 pkiConf, 22
    /// genp, 23 error), its senderNonce (a certConf repeats it) and the certificate it carries.
    public struct Answer: Sendable {
        public let bodyTag: Int
        public let senderNonce: [UInt8]?
        public let certificate: [UInt8]?

        /// - Throws: `CMPFailure` (badDataFormat) for anything but a PKIMessage.
        public init(_ der: [UInt8]) throws {
            do {
                let items = try ASN1Reading.children(of: try DER.parse(der), expecting: .sequence)
                guard items.count >= 2, let tag = ASN1Reading.contextTag(items[1]) else { throw CMPFailure(.badDataFormat, "not a PKIMessage") }
                bodyTag = tag
                let fields = try ASN1Reading.children(of: items[0], expecting: .sequence)
                senderNonce = try fields.first { ASN1Reading.contextTag($0) == 5 }.map { Array(try ASN1OctetString(derEncoded: try ASN1Reading.explicit($0)).bytes) }
                // CertRepMessage: [caPubs], SEQUENCE OF CertResponse { id, status, CertifiedKeyPair { [0] certificate } }
                var certificate: [UInt8]?
                if [1, 3, 8].contains(tag), let responses = try ASN1Reading.children(of: try ASN1Reading.explicit(items[1]), expecting: .sequence).last,
                   let response = try ASN1Reading.children(of: responses, expecting: .sequence).first {
                    let parts = try ASN1Reading.children(of: response, expecting: .sequence)
                    if parts.count > 2, let pair = try ASN1Reading.children(of: parts[2], expecting: .sequence).first {
                        certificate = Array(try ASN1Reading.explicit(pair).encodedBytes)
                    }
                }
                self.certificate = certificate
            } catch let failure as CMPFailure {
                throw failure
            } catch {
                throw CMPFailure(.badDataFormat, "not a PKIMessage (\(error))")
            }
        }
    }
}
