/// An OCSP request (RFC 6960 4.1.1) as a responder needs it: the certificates asked about and
/// the nonce. Read with `DERReader` straight from the bytes: a request is about a hundred bytes
/// and a responder reads thousands a second. The optional signature and requestor name are
/// skipped (RFC 6960 4.1.2: a responder need not check them; this one answers anyone).
public struct OCSPRequest: Sendable, Equatable {
    /// CertID (4.1.1): which certificate, named by its issuer's hashes and its serial.
    public struct CertID: Sendable, Hashable {
        /// The whole element as sent: echoed in the response (4.2.2.3), and the cache key.
        public let der: [UInt8]
        public let hashAlgorithm: HashAlgorithm
        public let issuerNameHash: [UInt8]
        public let issuerKeyHash: [UInt8]
        /// The serial's INTEGER contents, as the certificate carries them.
        public let serial: [UInt8]
    }

    /// The hash algorithms a CertID may use: SHA-1 is what OpenSSL and RFC 5019 clients send.
    public enum HashAlgorithm: Sendable, Hashable, CaseIterable {
        case sha1, sha256, sha384, sha512

        /// The OID's content bytes.
        var oid: [UInt8] {
            switch self {
            case .sha1: [0x2B, 0x0E, 0x03, 0x02, 0x1A]
            case .sha256: [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01]
            case .sha384: [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02]
            case .sha512: [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03]
            }
        }
    }

    public let certIDs: [CertID]
    /// The nonce extension (RFC 8954) as sent, echoed whole in the response; nil without one.
    public let nonceExtension: [UInt8]?

    /// Why a request cannot be answered: `malformedRequest` for all of them (4.2.1).
    public enum Malformed: Error, Equatable, CustomStringConvertible {
        case notDER(String)
        case unsupportedHash
        case nonceTooLong(Int)

        // Written out: the reflection `"\(error)"` falls back to cost more than the refusal it explains.
        public var description: String {
            switch self {
            case .notDER(let what): "not DER: \(what)"
            case .unsupportedHash: "a CertID's hash algorithm is not SHA-1 or SHA-2"
            case .nonceTooLong(let count): "a nonce of \(count) bytes (at most \(OCSPRequest.maximumNonce))"
            }
        }
    }

    /// The longest nonce accepted (RFC 8954 2.1: 1 to 32 octets).
    static let maximumNonce = 32
    /// More CertIDs in one request than any client sends: refused rather than signed.
    static let maximumCertIDs = 16

    public init(der bytes: [UInt8]) throws(Malformed) {
        let reader = DERReader(bytes: bytes)
        func child(_ parent: DERReader.Element, _ tag: UInt8, _ what: String) throws(Malformed) -> DERReader.Element {
            guard let found = reader.firstChild(of: parent), found.tag == tag else { throw .notDER(what) }
            return found
        }
        guard let top = reader.element(at: 0, limit: bytes.count), top.tag == 0x30, top.end == bytes.count else {
            throw .notDER("not an OCSPRequest SEQUENCE")
        }
        let tbs = try child(top, 0x30, "tbsRequest")
        guard var cursor = reader.firstChild(of: tbs) else { throw .notDER("empty tbsRequest") }
        func advance() throws(Malformed) -> DERReader.Element? {
            guard cursor.end < tbs.end else { return nil }
            guard let next = reader.next(after: cursor, in: tbs) else { throw .notDER("tbsRequest") }
            return next
        }
        if cursor.tag == 0xA0 {  // version [0] EXPLICIT, v1 (0) only
            guard let version = reader.firstChild(of: cursor), version.tag == 0x02,
                  Array(reader.bytes[version.contents..<version.end]) == [0] else { throw .notDER("version is not v1") }
            guard let next = try advance() else { throw .notDER("no requestList") }
            cursor = next
        }
        if cursor.tag == 0xA1 {  // requestorName
            guard let next = try advance() else { throw .notDER("no requestList") }
            cursor = next
        }
        guard cursor.tag == 0x30 else { throw .notDER("requestList") }
        var certIDs: [CertID] = []
        var request = reader.firstChild(of: cursor)
        while let item = request {
            guard item.tag == 0x30, certIDs.count < Self.maximumCertIDs else { throw .notDER("requestList holds more than \(Self.maximumCertIDs) requests") }
            certIDs.append(try Self.certID(try child(item, 0x30, "reqCert"), reader))
            request = item.end < cursor.end ? reader.next(after: item, in: cursor) : nil
            if item.end < cursor.end && request == nil { throw .notDER("requestList") }
        }
        guard !certIDs.isEmpty else { throw .notDER("an empty requestList") }
        var nonce: [UInt8]?
        if let extensions = try advance() {
            guard extensions.tag == 0xA2, let list = reader.firstChild(of: extensions), list.tag == 0x30 else { throw .notDER("requestExtensions") }
            var element = reader.firstChild(of: list)
            while let item = element {
                guard item.tag == 0x30, let oid = reader.firstChild(of: item), oid.tag == 0x06 else { throw .notDER("an extension") }
                if Array(bytes[oid.contents..<oid.end]) == Self.nonceOID {
                    guard let value = reader.next(after: oid, in: item), value.tag == 0x04 || value.tag == 0x01 else { throw .notDER("the nonce") }
                    let octets = value.tag == 0x04 ? value : reader.next(after: value, in: item)
                    guard let octets, octets.tag == 0x04 else { throw .notDER("the nonce") }
                    // RFC 8954: the value is an OCTET STRING of 1 to 32 octets (some clients send
                    // the bytes bare; the length check counts the inner header as slack).
                    let length = octets.end - octets.contents
                    guard length >= 1 else { throw .notDER("an empty nonce") }
                    guard length <= Self.maximumNonce + 2 else { throw .nonceTooLong(length) }
                    nonce = Array(reader.slice(item))
                }
                element = item.end < list.end ? reader.next(after: item, in: list) : nil
                if item.end < list.end && element == nil { throw .notDER("requestExtensions") }
            }
        }
        self.certIDs = certIDs
        self.nonceExtension = nonce
    }

    /// id-pkix-ocsp-nonce, 1.3.6.1.5.5.7.48.1.2.
    static let nonceOID: [UInt8] = [0x2B, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x02]

    private static func certID(_ element: DERReader.Element, _ reader: DERReader) throws(Malformed) -> CertID {
        let bytes = reader.bytes
        guard let algorithm = reader.firstChild(of: element), algorithm.tag == 0x30,
              let oid = reader.firstChild(of: algorithm), oid.tag == 0x06,
              let nameHash = reader.next(after: algorithm, in: element), nameHash.tag == 0x04,
              let keyHash = reader.next(after: nameHash, in: element), keyHash.tag == 0x04,
              let serial = reader.next(after: keyHash, in: element), serial.tag == 0x02, serial.end == element.end,
              serial.end > serial.contents else { throw .notDER("a CertID") }
        let oidBytes = Array(bytes[oid.contents..<oid.end])
        guard let hash = HashAlgorithm.allCases.first(where: { $0.oid == oidBytes }) else { throw .unsupportedHash }
        return CertID(der: Array(reader.slice(element)), hashAlgorithm: hash,
                      issuerNameHash: Array(bytes[nameHash.contents..<nameHash.end]),
                      issuerKeyHash: Array(bytes[keyHash.contents..<keyHash.end]),
                      serial: Array(bytes[serial.contents..<serial.end]))
    }
}
