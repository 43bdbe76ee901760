import X509

/// Why a CRL does not read back as it was decided.
struct CRLReadError: Error {
    let reason: String
    init(_ reason: String) { self.reason = reason }
}

/// Reads a CRL back strictly (a DER reader that refuses anything DER does not allow), over
/// bytes it never copies.
struct CRLReader {
    let bytes: UnsafeBufferPointer<UInt8>

    init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    struct Element {
        let tag: UInt8
        let start: Int
        let contents: Int
        let end: Int
        var length: Int { end - contents }
    }

    /// The element at `offset`, inside `limit`, with tag `tag` when given.
    func element(at offset: Int, limit: Int, tag expected: UInt8? = nil, _ what: @autoclosure () -> String) throws(CRLReadError) -> Element {
        guard offset + 2 <= limit else { throw CRLReadError("\(what()): cut short") }
        let tag = bytes[offset]
        guard tag & 0x1F != 0x1F else { throw CRLReadError("\(what()): a multi-byte tag") }
        if let expected, tag != expected { throw CRLReadError("\(what()): tag \(tag), want \(expected)") }
        let first = bytes[offset + 1]
        var length = Int(first), contents = offset + 2
        if first & 0x80 != 0 {
            let count = Int(first & 0x7F)
            // DER: the long form only from 128, in as few bytes as it takes (no indefinite form).
            guard (1...4).contains(count), contents + count <= limit, bytes[contents] != 0 else {
                throw CRLReadError("\(what()): not a DER length")
            }
            length = 0
            for index in contents..<contents + count { length = length << 8 | Int(bytes[index]) }
            guard length >= 128 else { throw CRLReadError("\(what()): a long-form length under 128") }
            contents += count
        }
        guard length <= limit - contents else { throw CRLReadError("\(what()): longer than what holds it") }
        return Element(tag: tag, start: offset, contents: contents, end: contents + length)
    }

    func equal(_ element: Element, _ expected: [UInt8]) -> Bool {
        bytes[element.start..<element.end].elementsEqual(expected)
    }

    /// The whole CRL: the signed part and the signature, once every field has been checked.
    func read(_ expected: CRLReleaseCheck.Expected) throws(CRLReadError) -> (signed: UnsafeBufferPointer<UInt8>, signature: UnsafeBufferPointer<UInt8>) {
        let list = try element(at: 0, limit: bytes.count, tag: 0x30, "CertificateList")
        guard list.end == bytes.count else { throw CRLReadError("bytes after the CertificateList") }
        let tbs = try element(at: list.contents, limit: list.end, tag: 0x30, "tbsCertList")
        let version = try element(at: tbs.contents, limit: tbs.end, tag: 0x02, "version")
        guard version.length == 1, bytes[version.contents] == 1 else { throw CRLReadError("version: not v2") }
        let signature = try element(at: version.end, limit: tbs.end, tag: 0x30, "signature")
        guard equal(signature, expected.algorithmIdentifier) else { throw CRLReadError("signature: not the issuer's algorithm") }
        let issuer = try element(at: signature.end, limit: tbs.end, tag: 0x30, "issuer")
        guard equal(issuer, expected.issuerName) else { throw CRLReadError("issuer: not the CA's name") }
        let thisUpdate = try element(at: issuer.end, limit: tbs.end, "thisUpdate")
        guard try time(thisUpdate, "thisUpdate") == expected.thisUpdate else { throw CRLReadError("thisUpdate: not the time decided") }
        let nextUpdate = try element(at: thisUpdate.end, limit: tbs.end, "nextUpdate")
        guard try time(nextUpdate, "nextUpdate") == expected.nextUpdate else { throw CRLReadError("nextUpdate: not the time decided") }
        var offset = nextUpdate.end
        var count = 0
        if offset < tbs.end, bytes[offset] == 0x30 {
            let revoked = try element(at: offset, limit: tbs.end, tag: 0x30, "revokedCertificates")
            // RFC 5280 5.1.2.6: absent, not empty, when nothing is revoked.
            guard revoked.length > 0 else { throw CRLReadError("revokedCertificates: present and empty") }
            var entry = revoked.contents
            while entry < revoked.end {
                entry = try self.entry(at: entry, limit: revoked.end, index: count)
                count += 1
            }
            offset = revoked.end
        }
        guard count == expected.entries else { throw CRLReadError("\(count) entries, \(expected.entries) decided") }
        let explicit = try element(at: offset, limit: tbs.end, tag: 0xA0, "crlExtensions")
        guard explicit.end == tbs.end else { throw CRLReadError("tbsCertList: bytes after crlExtensions") }
        try crlExtensions(try element(at: explicit.contents, limit: explicit.end, tag: 0x30, "crlExtensions"), expected)
        let outerAlgorithm = try element(at: tbs.end, limit: list.end, tag: 0x30, "signatureAlgorithm")
        guard equal(outerAlgorithm, expected.algorithmIdentifier) else { throw CRLReadError("signatureAlgorithm: not the tbsCertList's") }
        let value = try element(at: outerAlgorithm.end, limit: list.end, tag: 0x03, "signatureValue")
        guard value.end == list.end, value.length >= 2, bytes[value.contents] == 0 else { throw CRLReadError("signatureValue: not a whole BIT STRING") }
        return (UnsafeBufferPointer(rebasing: bytes[tbs.start..<tbs.end]), UnsafeBufferPointer(rebasing: bytes[(value.contents + 1)..<value.end]))
    }

    /// One revokedCertificates entry: serial, revocationDate, and only the extensions iotca
    /// writes (reasonCode, invalidityDate) or non-critical others. Returns where the next begins.
    private func entry(at offset: Int, limit: Int, index: Int) throws(CRLReadError) -> Int {
        let entry = try element(at: offset, limit: limit, tag: 0x30, "entry \(index)")
        let serial = try element(at: entry.contents, limit: entry.end, tag: 0x02, "entry \(index) serial")
        try positiveInteger(serial, maximumOctets: 20, "entry \(index) serial")
        let date = try element(at: serial.end, limit: entry.end, "entry \(index) revocationDate")
        _ = try time(date, "entry \(index) revocationDate")
        if date.end < entry.end {
            let list = try element(at: date.end, limit: entry.end, tag: 0x30, "entry \(index) extensions")
            guard list.end == entry.end, list.length > 0 else { throw CRLReadError("entry \(index): bytes after its extensions") }
            try extensions(list, "entry \(index)") { oid, value throws(CRLReadError) in
                switch oid {
                case 0x15:  // reasonCode (2.5.29.21): ENUMERATED, a defined reason (7 is unused)
                    let reason = try element(at: value.contents, limit: value.end, tag: 0x0A, "entry \(index) reasonCode")
                    guard reason.end == value.end, reason.length == 1, bytes[reason.contents] <= 10, bytes[reason.contents] != 7 else {
                        throw CRLReadError("entry \(index) reasonCode: not a reason")
                    }
                    return true
                case 0x18:  // invalidityDate (2.5.29.24): GeneralizedTime
                    let date = try element(at: value.contents, limit: value.end, tag: 0x18, "entry \(index) invalidityDate")
                    guard date.end == value.end else { throw CRLReadError("entry \(index) invalidityDate: bytes after it") }
                    _ = try time(date, "entry \(index) invalidityDate", generalizedAlways: true)
                    return true
                default:
                    return false
                }
            }
        }
        return entry.end
    }

    private func crlExtensions(_ list: Element, _ expected: CRLReleaseCheck.Expected) throws(CRLReadError) {
        var number: Int64?
        var authorityKeyIdentifier = false
        try extensions(list, "crlExtensions") { oid, value throws(CRLReadError) in
            switch oid {
            case 0x14:  // cRLNumber (2.5.29.20)
                let integer = try element(at: value.contents, limit: value.end, tag: 0x02, "cRLNumber")
                guard integer.end == value.end, integer.length <= 8 else { throw CRLReadError("cRLNumber: too long") }
                try positiveInteger(integer, maximumOctets: 8, "cRLNumber")
                var read: Int64 = 0
                for index in integer.contents..<integer.end { read = read << 8 | Int64(bytes[index]) }
                number = read
                return true
            case 0x23:  // authorityKeyIdentifier (2.5.29.35)
                let sequence = try element(at: value.contents, limit: value.end, tag: 0x30, "authorityKeyIdentifier")
                guard sequence.end == value.end else { throw CRLReadError("authorityKeyIdentifier: bytes after it") }
                authorityKeyIdentifier = true
                return true
            default:
                return false
            }
        }
        guard number == expected.number else { throw CRLReadError("cRLNumber: not the number allocated") }
        guard authorityKeyIdentifier else { throw CRLReadError("no authorityKeyIdentifier") }
    }

    /// Each Extension of `list`: OID, critical (DER: absent when false), OCTET STRING. `known`
    /// checks the value of an extension it knows and says whether it did; an unknown critical one
    /// is refused (RFC 5280 5.2), as is any extension twice.
    private func extensions(_ list: Element, _ what: @autoclosure () -> String,
                            known: (UInt8?, Element) throws(CRLReadError) -> Bool) throws(CRLReadError) {
        // An entry has one or two extensions: a list of those seen beats hashing them.
        var seen: [Range<Int>] = []
        var offset = list.contents
        while offset < list.end {
            let item = try element(at: offset, limit: list.end, tag: 0x30, "\(what()) extension")
            let oid = try element(at: item.contents, limit: item.end, tag: 0x06, "\(what()) extension id")
            guard oid.length > 0 else { throw CRLReadError("\(what()): an empty extension id") }
            let identifier = bytes[oid.contents..<oid.end]
            guard !seen.contains(where: { bytes[$0].elementsEqual(identifier) }) else { throw CRLReadError("\(what()): an extension twice") }
            seen.append(oid.contents..<oid.end)
            // 2.5.29.X (id-ce) is all this reader knows: X, or nil for anything else.
            let idCE: UInt8? = oid.length == 3 && bytes[oid.contents] == 0x55 && bytes[oid.contents + 1] == 0x1D ? bytes[oid.contents + 2] : nil
            var next = try element(at: oid.end, limit: item.end, "\(what()) extension")
            var critical = false
            if next.tag == 0x01 {
                guard next.length == 1, bytes[next.contents] == 0xFF else { throw CRLReadError("\(what()): critical is not DER TRUE") }
                critical = true
                next = try element(at: next.end, limit: item.end, "\(what()) extension value")
            }
            guard next.tag == 0x04, next.end == item.end else { throw CRLReadError("\(what()): an extension's value is not an OCTET STRING") }
            if try !known(idCE, next) && critical { throw CRLReadError("\(what()): an unknown critical extension") }
            offset = item.end
        }
    }

    private func positiveInteger(_ integer: Element, maximumOctets: Int, _ what: @autoclosure () -> String) throws(CRLReadError) {
        guard integer.length >= 1 else { throw CRLReadError("\(what()): empty") }
        let first = bytes[integer.contents]
        guard first & 0x80 == 0 else { throw CRLReadError("\(what()): negative") }
        if integer.length > 1 && first == 0 && bytes[integer.contents + 1] & 0x80 == 0 { throw CRLReadError("\(what()): not minimal") }
        let magnitude = integer.length - (first == 0 && integer.length > 1 ? 1 : 0)
        guard magnitude <= maximumOctets else { throw CRLReadError("\(what()): longer than \(maximumOctets) octets") }
    }

    /// A UTCTime (YYMMDDHHMMSSZ, years 1950-2049) or GeneralizedTime (YYYYMMDDHHMMSSZ) as RFC
    /// 5280 4.1.2.5 allows them (an invalidityDate is GeneralizedTime whatever the year, 5.3.2),
    /// in Unix seconds.
    private func time(_ element: Element, _ what: @autoclosure () -> String, generalizedAlways: Bool = false) throws(CRLReadError) -> Int64 {
        let utc = element.tag == 0x17
        guard (utc && !generalizedAlways) || element.tag == 0x18 else { throw CRLReadError("\(what()): not a time") }
        guard element.length == (utc ? 13 : 15), bytes[element.end - 1] == UInt8(ascii: "Z") else { throw CRLReadError("\(what()): not a Zulu time") }
        for index in element.contents..<element.end - 1 where !(0x30...0x39).contains(bytes[index]) {
            throw CRLReadError("\(what()): not digits")
        }
        let digits = element.contents
        func pair(_ at: Int) -> Int { Int(bytes[digits + at] &- 0x30) * 10 + Int(bytes[digits + at + 1] &- 0x30) }
        var year = utc ? pair(0) : pair(0) * 100 + pair(2)
        if utc { year += year < 50 ? 2000 : 1900 }
        guard utc || year >= 2050 || generalizedAlways else { throw CRLReadError("\(what()): a GeneralizedTime before 2050") }
        let rest = utc ? 2 : 4
        let month = pair(rest), day = pair(rest + 2), hour = pair(rest + 4), minute = pair(rest + 6), second = pair(rest + 8)
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        guard (1...12).contains(month), day >= 1, day <= (month == 2 && leap ? 29 : Self.daysInMonth[month - 1]), hour < 24, minute < 60,
              second < 60 else {
            throw CRLReadError("\(what()): not a date")
        }
        return CivilTime.unixSeconds(year: year, month: month, day: day) + Int64(hour * 3_600 + minute * 60 + second)
    }

    private static let daysInMonth = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
}
