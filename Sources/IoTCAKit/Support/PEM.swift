/// PEM text (RFC 7468) from DER. SwiftASN1's `PEMDocument.pemString` indexes its String by
/// offset and dominated the cost of a bundle; this writes bytes directly.
@_spi(Fuzzing) public enum PEM {
    public static func encode(_ der: [UInt8], type: String) -> String {
        String(decoding: bytes(der, type: type), as: UTF8.self)
    }

    /// The PEM text as UTF-8 bytes, for files.
    public static func bytes(_ der: [UInt8], type: String) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(2 * type.utf8.count + 32 + der.count * 4 / 3 + der.count / 48 + 8)
        bytes.append(contentsOf: "-----BEGIN ".utf8)
        bytes.append(contentsOf: type.utf8)
        bytes.append(contentsOf: "-----\n".utf8)
        Base64.appendLines(der[...], to: &bytes)
        bytes.append(contentsOf: "-----END ".utf8)
        bytes.append(contentsOf: type.utf8)
        bytes.append(contentsOf: "-----\n".utf8)
        return bytes
    }
}
