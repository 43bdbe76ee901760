import Crypto

extension PrivateKeyMaterial {
    /// The key as an RFC 5915 ECPrivateKey with its curve and public key, as `openssl ec
    /// -outform DER` writes it: what the Matter SDK's `*-Key.der` files hold and its factory
    /// tools read. Nil for a key that is not EC P-256.
    var sec1DER: [UInt8]? {
        guard algorithm == .ecP256, let key = try? P256.Signing.PrivateKey(derRepresentation: pkcs8DER) else { return nil }
        let scalar = Array(key.rawRepresentation), point = Array(key.publicKey.x963Representation)
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
}
