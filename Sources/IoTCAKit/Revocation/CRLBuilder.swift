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
        // About 60 bytes per entry: serial, time and a reasonCode extension; 1 KB for what
        // follows them (extensions, algorithm, a signature of up to RSA-4096).
        entries = DERWriter(capacity: expectedEntries * 64 + 1_024, headroom: Self.headroom)
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
                entries.append(Self.reasonCodePrefix)
                entries.append(entry.reason.code)
            }
            if let invalidity = entry.invalidityDate {
                // invalidityDate (2.5.29.24), always a GeneralizedTime.
                entries.append(Self.invalidityDatePrefix)
                entries.generalizedTime(invalidity)
            }
        }
        count += 1
    }

    // The fixed bytes of the two entry extensions, kept once instead of built per entry.
    private static let reasonCodePrefix: [UInt8] = [0x30, 10, 0x06, 0x03, 0x55, 0x1D, 0x15, 0x04, 0x03, 0x0A, 0x01]
    private static let invalidityDatePrefix: [UInt8] = [0x30, 24, 0x06, 0x03, 0x55, 0x1D, 0x18, 0x04, 0x11]

    /// Room kept before the first entry for the headers and fields that precede the entries
    /// (version, algorithm, issuer name, times): they are written there at the end, so the
    /// entries already in the buffer never move to another one.
    static let headroom = 4_096

    /// The signed CertificateList, built in the entries' own buffer: the TBS prefix goes into
    /// the headroom, the extensions, algorithm and signature after the entries, the outer header
    /// last; the signature is computed over the TBS where it lies. Peak memory is the CRL itself.
    public mutating func finish(issuer: Certificate, algorithm: KeyAlgorithm, thisUpdate: Int64, nextUpdate: Int64,
                                number: Int64, sign: (ArraySlice<UInt8>) throws -> [UInt8]) throws -> [UInt8] {
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

        let entriesLength = entries.bytes.count - Self.headroom
        var tbsHead = DERWriter()
        var tbsLength = prefix.bytes.count + extensions.bytes.count
        if count > 0 { tbsLength += DERWriter.headerLength(count: entriesLength) + entriesLength }
        tbsHead.header(0x30, count: tbsLength)
        tbsHead.append(prefix.bytes)
        if count > 0 { tbsHead.header(0x30, count: entriesLength) }  // an empty revokedCertificates is absent
        // The outer header is at most 6 bytes (a length of up to 4 GB): keep room for it.
        guard tbsHead.bytes.count + 6 <= Self.headroom else { throw SigningError.signatureFailed("the CRL's issuer name is too long") }
        let tbsStart = entries.fill(tbsHead.bytes, endingAt: Self.headroom)
        entries.append(extensions.bytes)
        let tbsEnd = entries.bytes.count

        let signature = try sign(entries.bytes[tbsStart..<tbsEnd])
        let signatureLength = 1 + signature.count  // BIT STRING with no unused bits
        entries.append(algorithmIdentifier)
        entries.header(0x03, count: signatureLength)
        entries.append([0x00])
        entries.append(signature)
        var outer = DERWriter()
        outer.header(0x30, count: entries.bytes.count - tbsStart)
        let start = entries.fill(outer.bytes, endingAt: tbsStart)
        entries.dropFirst(start)
        return entries.take()
    }

    static func integerLength(_ magnitude: [UInt8]) -> Int {
        let trimmed = magnitude.drop { $0 == 0 }
        let content = trimmed.isEmpty ? 1 : trimmed.count + (trimmed.first.map { $0 & 0x80 != 0 } ?? false ? 1 : 0)
        return DERWriter.headerLength(count: content) + content
    }
}

extension CRLBuilder: CRLEntrySink {
    init() { self.init(expectedEntries: 0) }
    mutating func reserve(_ count: Int) { entries.reserve(count * 64) }
}
