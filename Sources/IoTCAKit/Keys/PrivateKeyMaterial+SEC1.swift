import Crypto

extension PrivateKeyMaterial {
    /// The key as an RFC 5915 ECPrivateKey with its curve and public key, as `openssl ec
    /// -outform DER` writes it: what the Matter SDK's `*-Key.der` files hold and its factory
    /// tools read. Nil for a key that is not EC P-256.
    var sec1DER: [UInt8]? {
        guard algorithm == .ecP256 else { return nil }
        let pkcs8 = pkcs8DER
        guard let (scalar, point) = Self.scalarAndPoint(pkcs8) ?? Self.derived(pkcs8) else { return nil }
        var writer = DERWriter()
        writer.element(0x30) { ecKey in
            ecKey.append([0x02, 0x01, 0x01])
            ecKey.header(0x04, count: scalar.count)
            ecKey.append(scalar)
            ecKey.element(0xA0) { $0.append([0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07]) }  // prime256v1
            ecKey.element(0xA1) { $0.header(0x03, count: point.count + 1); $0.append([0x00]); $0.append(point) }
        }
        return writer.bytes
    }

    /// The scalar and public point inside PKCS#8's ECPrivateKey, read where they lie: a batch
    /// writes one key file per DAC, and deriving the point again is a scalar multiplication.
    private static func scalarAndPoint(_ pkcs8: [UInt8]) -> ([UInt8], [UInt8])? {
        let outer = DERReader(bytes: pkcs8)
        guard let info = outer.element(at: 0, limit: pkcs8.count), let version = outer.firstChild(of: info),
              let algorithm = outer.next(after: version, in: info), let octets = outer.next(after: algorithm, in: info),
              octets.tag == 0x04 else { return nil }
        let inner = Array(pkcs8[octets.contents..<octets.end])
        let reader = DERReader(bytes: inner)
        guard let key = reader.element(at: 0, limit: inner.count), key.tag == 0x30, let keyVersion = reader.firstChild(of: key),
              let secret = reader.next(after: keyVersion, in: key), secret.tag == 0x04, secret.end - secret.contents == 32 else { return nil }
        var field = reader.next(after: secret, in: key)
        while let current = field, current.tag != 0xA1 { field = reader.next(after: current, in: key) }
        guard let publicKey = field, let bits = reader.firstChild(of: publicKey), bits.tag == 0x03,
              bits.end - bits.contents == 66, inner[bits.contents] == 0 else { return nil }
        return (Array(inner[secret.contents..<secret.end]), Array(inner[(bits.contents + 1)..<bits.end]))
    }

    private static func derived(_ pkcs8: [UInt8]) -> ([UInt8], [UInt8])? {
        guard let key = try? P256.Signing.PrivateKey(derRepresentation: pkcs8) else { return nil }
        return (Array(key.rawRepresentation), Array(key.publicKey.x963Representation))
    }
}
