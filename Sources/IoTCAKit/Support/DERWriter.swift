import Foundation

/// A minimal DER writer for structures written in bulk (CRL entries) or that swift-certificates
/// has no type for (cRLDistributionPoints). It appends to one growing buffer, so a CRL with a
/// million entries costs one buffer, not a million nodes.
struct DERWriter {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    /// `headroom` zero bytes first, to be filled later by `fillHeadroom` with what can only be
    /// known at the end (the headers of what follows), so the buffer is never copied.
    init(capacity: Int, headroom: Int) {
        bytes.reserveCapacity(headroom + capacity)
        bytes.append(contentsOf: repeatElement(0, count: headroom))
    }

    /// Writes `prefix` so that it ends at `end`; returns where it begins.
    mutating func fill(_ prefix: [UInt8], endingAt end: Int) -> Int {
        let start = end - prefix.count
        bytes.replaceSubrange(start..<end, with: prefix)
        return start
    }

    /// Drops the first `count` bytes in place (a move within the buffer, no second buffer).
    mutating func dropFirst(_ count: Int) { bytes.removeFirst(count) }

    /// The bytes, handed over without a copy; the writer is empty afterwards.
    mutating func take() -> [UInt8] {
        var taken: [UInt8] = []
        swap(&taken, &bytes)
        return taken
    }

    mutating func reserve(_ capacity: Int) { bytes.reserveCapacity(bytes.count + capacity) }

    mutating func append(_ raw: [UInt8]) { bytes.append(contentsOf: raw) }
    mutating func append(_ byte: UInt8) { bytes.append(byte) }
    mutating func append(_ raw: ArraySlice<UInt8>) { bytes.append(contentsOf: raw) }

    /// A tag and the length of `count` content bytes.
    mutating func header(_ tag: UInt8, count: Int) {
        bytes.append(tag)
        Self.appendLength(count, to: &bytes)
    }

    /// A tag wrapping what `content` writes.
    mutating func element(_ tag: UInt8, _ content: (inout DERWriter) throws -> Void) rethrows {
        var inner = DERWriter()
        try content(&inner)
        header(tag, count: inner.bytes.count)
        bytes.append(contentsOf: inner.bytes)
    }

    /// A non-negative INTEGER from big-endian magnitude bytes (a serial number, a CRL number).
    mutating func unsignedInteger(_ magnitude: some Collection<UInt8>) {
        let trimmed = magnitude.drop { $0 == 0 }
        if trimmed.isEmpty {
            bytes.append(contentsOf: [0x02, 0x01, 0x00])
            return
        }
        let pad = trimmed.first.map { $0 & 0x80 != 0 } ?? false
        header(0x02, count: trimmed.count + (pad ? 1 : 0))
        if pad { bytes.append(0) }
        bytes.append(contentsOf: trimmed)
    }

    mutating func unsignedInteger(_ value: UInt64) {
        unsignedInteger(withUnsafeBytes(of: value.bigEndian) { Array($0) })
    }

    /// RFC 5280 Time: UTCTime for 1950-2049, GeneralizedTime otherwise (section 4.1.2.5).
    mutating func time(_ seconds: Int64) { time(CivilTime(seconds)) }

    mutating func time(_ civil: CivilTime) {
        if (1950...2049).contains(civil.year) { utcTime(civil) } else { generalizedTime(civil) }
    }

    mutating func generalizedTime(_ seconds: Int64) { generalizedTime(CivilTime(seconds)) }

    private mutating func utcTime(_ civil: CivilTime) {
        bytes.append(contentsOf: [0x17, 13])
        twoDigits(civil.year % 100)
        civil.appendMonthToSecond(to: &self)
    }

    private mutating func generalizedTime(_ civil: CivilTime) {
        bytes.append(contentsOf: [0x18, 15])
        twoDigits(civil.year / 100)
        twoDigits(civil.year % 100)
        civil.appendMonthToSecond(to: &self)
    }

    mutating func twoDigits(_ value: Int) {
        let digits = UInt8(truncatingIfNeeded: value)
        bytes.append(0x30 &+ digits / 10)
        bytes.append(0x30 &+ digits % 10)
    }

    mutating func zulu() { bytes.append(0x5A) }

    static func appendLength(_ count: Int, to bytes: inout [UInt8]) {
        if count < 0x80 {
            bytes.append(UInt8(count))
            return
        }
        var length = count
        var octets: [UInt8] = []
        while length > 0 {
            octets.insert(UInt8(length & 0xFF), at: 0)
            length >>= 8
        }
        bytes.append(0x80 | UInt8(octets.count))
        bytes.append(contentsOf: octets)
    }

    static func headerLength(count: Int) -> Int {
        var bytes: [UInt8] = []
        appendLength(count, to: &bytes)
        return 1 + bytes.count
    }
}
