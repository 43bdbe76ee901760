import Foundation
import SwiftASN1

/// A PKIMessage as a client sent it (RFC 9810 5.1): the header fields a PKI management entity
/// checks, the body, the protection and the extra certificates. The header and body are kept as
/// received, since the protection is over their exact bytes (the ProtectedPart, 5.1.3).
struct CMPMessage: Sendable {
    struct Header: Sendable {
        var pvno: Int
        /// GeneralName, DER, as sent: the answer's recipient.
        var sender: [UInt8]
        var messageTime: Date?
        /// AlgorithmIdentifier, DER.
        var protectionAlgorithm: [UInt8]?
        var senderKID: [UInt8]?
        var transactionID: [UInt8]?
        var senderNonce: [UInt8]?
        var recipientNonce: [UInt8]?
        /// generalInfo asks for implicit confirmation (id-it-implicitConfirm).
        var implicitConfirm: Bool
    }

    let header: Header
    let body: CMPBody
    /// DER of ProtectedPart ::= SEQUENCE { header, body }.
    let protectedPart: [UInt8]
    /// The protection BIT STRING's bytes.
    let protection: [UInt8]?
    /// extraCerts, DER each; with signature protection the first is the signer's.
    let extraCerts: [[UInt8]]

    /// A request of more than this is hostile: one certificate request with a few extra
    /// certificates is a few kilobytes.
    static let sizeLimit = 64 * 1024

    static let implicitConfirmOID: ASN1ObjectIdentifier = [1, 3, 6, 1, 5, 5, 7, 4, 13]

    /// - Throws: `CMPFailure` (badDataFormat, badRequest) for anything but a PKIMessage.
    init(derEncoded der: [UInt8]) throws(CMPFailure) {
        guard der.count <= Self.sizeLimit else { throw CMPFailure(.badDataFormat, "the message is larger than \(Self.sizeLimit / 1024) KiB") }
        do {
            let items = try ASN1Reading.children(of: try DER.parse(der), expecting: .sequence)
            guard items.count >= 2 else { throw CMPFailure(.badDataFormat, "a PKIMessage has a header and a body") }
            header = try Self.header(items[0])
            body = try CMPBody(items[1])
            var part = DERWriter()
            part.element(0x30) { $0.append(items[0].encodedBytes); $0.append(items[1].encodedBytes) }
            protectedPart = part.take()
            var protection: [UInt8]?
            var extraCerts: [[UInt8]] = []
            for item in items.dropFirst(2) {
                switch ASN1Reading.contextTag(item) {
                case 0: protection = Array(try ASN1BitString(derEncoded: try ASN1Reading.explicit(item)).bytes)
                case 1: extraCerts = try ASN1Reading.children(of: try ASN1Reading.explicit(item), expecting: .sequence).map { Array($0.encodedBytes) }
                default: throw CMPFailure(.badDataFormat, "unexpected field after the body")
                }
            }
            self.protection = protection
            self.extraCerts = extraCerts
        } catch let failure as CMPFailure {
            throw failure
        } catch {
            throw CMPFailure(.badDataFormat, "not a DER PKIMessage")
        }
    }

    private static func header(_ node: ASN1Node) throws -> Header {
        let fields = try ASN1Reading.children(of: node, expecting: .sequence)
        guard fields.count >= 3 else { throw CMPFailure(.badDataFormat, "a PKIHeader has pvno, sender and recipient") }
        var header = Header(pvno: try Int(derEncoded: fields[0]), sender: Array(fields[1].encodedBytes), implicitConfirm: false)
        var lastTag = -1
        for field in fields.dropFirst(3) {
            guard let tag = ASN1Reading.contextTag(field), tag > lastTag else {
                throw CMPFailure(.badDataFormat, "the header's optional fields are out of order or unknown")
            }
            lastTag = tag
            let inner = try ASN1Reading.explicit(field)
            switch tag {
            case 0: header.messageTime = try ASN1Reading.date(try GeneralizedTime(derEncoded: inner))
            case 1: header.protectionAlgorithm = Array(inner.encodedBytes)
            case 2: header.senderKID = Array(try ASN1OctetString(derEncoded: inner).bytes)
            case 4: header.transactionID = Array(try ASN1OctetString(derEncoded: inner).bytes)
            case 5: header.senderNonce = Array(try ASN1OctetString(derEncoded: inner).bytes)
            case 6: header.recipientNonce = Array(try ASN1OctetString(derEncoded: inner).bytes)
            case 8:
                for info in try ASN1Reading.children(of: inner, expecting: .sequence) {
                    let parts = try ASN1Reading.children(of: info, expecting: .sequence)
                    if let first = parts.first, try ASN1ObjectIdentifier(derEncoded: first) == implicitConfirmOID {
                        header.implicitConfirm = true
                    }
                }
            default: break  // recipKID, freeText: nothing to act on
            }
        }
        return header
    }
}

/// Walking a DER tree with SwiftASN1's nodes.
enum ASN1Reading {
    static func children(of node: ASN1Node, expecting identifier: ASN1Identifier) throws -> [ASN1Node] {
        guard node.identifier == identifier, case .constructed(let items) = node.content else {
            throw CMPFailure(.badDataFormat, "expected \(identifier), found \(node.identifier)")
        }
        return Array(items)
    }

    /// The context-specific tag number of `node`, if it has one.
    static func contextTag(_ node: ASN1Node) -> Int? {
        node.identifier.tagClass == .contextSpecific ? Int(node.identifier.tagNumber) : nil
    }

    /// What an explicit tag wraps.
    static func explicit(_ node: ASN1Node) throws -> ASN1Node {
        guard case .constructed(let items) = node.content, let only = items.first(where: { _ in true }), Array(items).count == 1 else {
            throw CMPFailure(.badDataFormat, "an explicitly tagged field holds one value")
        }
        return only
    }

    static func date(_ time: GeneralizedTime) throws -> Date {
        var components = DateComponents(year: time.year, month: time.month, day: time.day, hour: time.hours, minute: time.minutes,
                                        second: time.seconds)
        components.timeZone = TimeZone(identifier: "UTC")
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? calendar.timeZone
        guard let date = calendar.date(from: components) else { throw CMPFailure(.badTime, "the message time is not a date") }
        return date
    }

    static func oid(_ algorithmIdentifier: ASN1Node) throws -> (ASN1ObjectIdentifier, ASN1Node?) {
        let parts = try children(of: algorithmIdentifier, expecting: .sequence)
        guard let first = parts.first else { throw CMPFailure(.badDataFormat, "an empty AlgorithmIdentifier") }
        return (try ASN1ObjectIdentifier(derEncoded: first), parts.dropFirst().first)
    }
}

extension CMPResponder {
    /// For the fuzzer: everything the responder reads from a request before it knows who sent
    /// it (the message, its protection parameters, a CRMF request's proof of possession).
    @_spi(Fuzzing) public static func parseForFuzzing(_ der: [UInt8]) {
        guard let message = try? CMPMessage(derEncoded: der) else { return }
        if let algorithm = message.header.protectionAlgorithm, let node = try? DER.parse(algorithm),
           let (_, parameters) = try? ASN1Reading.oid(node) {
            _ = try? CMPAlgorithms.PasswordBasedMAC(parameters: parameters)
        }
        if case .certification(_, let requests) = message.body { for request in requests { _ = try? request.provenKey() } }
        _ = try? CMPClientRequest.Answer(der)
    }
}
