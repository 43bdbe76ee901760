import Crypto
import Foundation
import SwiftASN1
import X509

/// One revoked certificate as the CRL lists it.
@_spi(Fuzzing) public struct RevokedEntry {
    public var serial: [UInt8]
    public var revokedAt: Int64
    public var reason: RevocationReason
    public var invalidityDate: Int64?

    public init(serial: [UInt8], revokedAt: Int64, reason: RevocationReason, invalidityDate: Int64?) {
        self.serial = serial
        self.revokedAt = revokedAt
        self.reason = reason
        self.invalidityDate = invalidityDate
    }
}

/// Builds an RFC 5280 v2 CRL (section 5) in DER. Entries are appended one at a time into a
/// single buffer as the store streams them, so the cost is linear in the number of entries and
/// the memory is about the size of the CRL itself.
@_spi(Fuzzing) public struct CRLBuilder {
    private var entries: DERWriter
    private(set) var count = 0

    public init(expectedEntries: Int = 0) {
        // About 60 bytes per entry: serial, time and a reasonCode extension.
        entries = DERWriter(capacity: expectedEntries * 64)
    }

    public mutating func append(_ entry: RevokedEntry) {
        var extensionsLength = 0
        if entry.reason != .unspecified { extensionsLength += 12 }  // SEQUENCE { OID, OCTET STRING { ENUMERATED } }
        if entry.invalidityDate != nil { extensionsLength += 26 }   // SEQUENCE { OID, OCTET STRING { GeneralizedTime } }
        let serialLength = Self.integerLength(entry.serial)
        let revoked = CivilTime(entry.revokedAt)
        let timeLength = 2 + ((1950...2049).contains(revoked.year) ? 13 : 15)
        var bodyLength = serialLength + timeLength
        if extensionsLength > 0 { bodyLength += 2 + extensionsLength }
        entries.header(0x30, count: bodyLength)
        entries.unsignedInteger(entry.serial)
        entries.time(revoked)
        if extensionsLength > 0 {
            entries.header(0x30, count: extensionsLength)
            if entry.reason != .unspecified {
                // reasonCode (2.5.29.21): RFC 5280 says to omit it rather than write unspecified.
                entries.append([0x30, 10, 0x06, 0x03, 0x55, 0x1D, 0x15, 0x04, 0x03, 0x0A, 0x01, entry.reason.code])
            }
            if let invalidity = entry.invalidityDate {
                // invalidityDate (2.5.29.24), always a GeneralizedTime.
                entries.append([0x30, 24, 0x06, 0x03, 0x55, 0x1D, 0x18, 0x04, 0x11])
                entries.generalizedTime(invalidity)
            }
        }
        count += 1
    }

    /// The signed CertificateList. Buffers are released as soon as they are copied onward, so
    /// the peak is about twice the CRL's size.
    public mutating func finish(issuer: Certificate, algorithm: KeyAlgorithm, thisUpdate: Int64, nextUpdate: Int64,
                number: Int64, sign: ([UInt8]) throws -> [UInt8]) throws -> [UInt8] {
        let algorithmIdentifier = algorithm.signatureAlgorithmIdentifierDER
        var prefix = DERWriter()
        prefix.append([0x02, 0x01, 0x01])  // version v2
        prefix.append(algorithmIdentifier)
        var name = DER.Serializer()
        try name.serialize(issuer.subject)
        prefix.append(name.serializedBytes)
        prefix.time(thisUpdate)
        prefix.time(nextUpdate)

        var extensions = DERWriter()
        extensions.element(0xA0) { explicit in
            explicit.element(0x30) { list in
                let keyID = (try? issuer.extensions.subjectKeyIdentifier)??.keyIdentifier
                    ?? SubjectKeyIdentifier(hash: issuer.publicKey).keyIdentifier
                list.element(0x30) { aki in  // authorityKeyIdentifier (2.5.29.35)
                    aki.append([0x06, 0x03, 0x55, 0x1D, 0x23])
                    aki.element(0x04) { value in
                        value.element(0x30) { sequence in
                            sequence.header(0x80, count: keyID.count)
                            sequence.append(keyID)
                        }
                    }
                }
                list.element(0x30) { crlNumber in  // cRLNumber (2.5.29.20)
                    crlNumber.append([0x06, 0x03, 0x55, 0x1D, 0x14])
                    crlNumber.element(0x04) { $0.unsignedInteger(UInt64(number)) }
                }
            }
        }

        let entriesLength = entries.bytes.count
        var tbsLength = prefix.bytes.count + extensions.bytes.count
        if count > 0 { tbsLength += DERWriter.headerLength(count: entriesLength) + entriesLength }
        var tbs = DERWriter(capacity: DERWriter.headerLength(count: tbsLength) + tbsLength)
        tbs.header(0x30, count: tbsLength)
        tbs.append(prefix.bytes)
        if count > 0 {  // an empty revokedCertificates must be absent, not an empty SEQUENCE
            tbs.header(0x30, count: entriesLength)
            tbs.append(entries.bytes)
        }
        tbs.append(extensions.bytes)
        entries = DERWriter()

        let signature = try sign(tbs.bytes)
        let signatureLength = 1 + signature.count  // BIT STRING with no unused bits
        let bodyLength = tbs.bytes.count + algorithmIdentifier.count + DERWriter.headerLength(count: signatureLength) + signatureLength
        var crl = DERWriter(capacity: DERWriter.headerLength(count: bodyLength) + bodyLength)
        crl.header(0x30, count: bodyLength)
        crl.append(tbs.bytes)
        crl.append(algorithmIdentifier)
        crl.header(0x03, count: signatureLength)
        crl.append([0x00])
        crl.append(signature)
        return crl.bytes
    }

    static func integerLength(_ magnitude: [UInt8]) -> Int {
        let trimmed = magnitude.drop { $0 == 0 }
        let content = trimmed.isEmpty ? 1 : trimmed.count + (trimmed.first.map { $0 & 0x80 != 0 } ?? false ? 1 : 0)
        return DERWriter.headerLength(count: content) + content
    }
}

extension CRLBuilder: CRLEntrySink {
    mutating func reserve(_ count: Int) { entries.reserve(count * 64) }
}
