import Crypto
import Foundation
@testable import IoTCAKit
import SwiftASN1
import Testing
import X509


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
