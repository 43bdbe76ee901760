/// A request's SubjectPublicKeyInfo, taken as it is when it is exactly what encoding its key
/// again would give: the fixed algorithm prefix of a named curve that iotca accepts, then an
/// uncompressed point of that curve's size. Anything else (a compressed point, explicit curve
/// parameters, RSA, Ed25519) is encoded again from the parsed key, as before.
enum CanonicalSPKI {
    /// SEQUENCE { SEQUENCE { id-ecPublicKey, namedCurve }, BIT STRING (no unused bits) 0x04 },
    /// and the bytes of the point's X and Y after it, per curve (RFC 5480).
    static let prefixes: [(prefix: [UInt8], pointBytes: Int)] = [
        // P-256 (prime256v1)
        ([0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01, 0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE,
          0x3D, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04], 64),
        // P-384 (secp384r1)
        ([0x30, 0x76, 0x30, 0x10, 0x06, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01, 0x06, 0x05, 0x2B, 0x81, 0x04, 0x00,
          0x22, 0x03, 0x62, 0x00, 0x04], 96),
    ]

    /// The SPKI of a PKCS#10 request (`der`, already parsed and its signature verified), when
    /// it has a canonical form; nil otherwise.
    static func bytes(inRequest der: [UInt8]) -> [UInt8]? {
        let reader = DERReader(bytes: der)
        guard let request = reader.element(at: 0, limit: der.count), request.tag == 0x30,
              let info = reader.firstChild(of: request), info.tag == 0x30,
              let version = reader.firstChild(of: info),
              let subject = reader.next(after: version, in: info),
              let spki = reader.next(after: subject, in: info), spki.tag == 0x30 else { return nil }
        let candidate = reader.slice(spki)
        for (prefix, pointBytes) in prefixes
        where candidate.count == prefix.count + pointBytes && candidate.starts(with: prefix) {
            return Array(candidate)
        }
        return nil
    }
}
