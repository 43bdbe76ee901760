/// PEM text (RFC 7468) from DER. SwiftASN1's `PEMDocument.pemString` indexes its String by
/// offset and dominated the cost of a bundle; this writes bytes directly.
@_spi(Fuzzing) public enum PEM {
    public static func encode(_ der: [UInt8], type: String) -> String {
        var bytes: [UInt8] = Array("-----BEGIN \(type)-----\n".utf8)
        bytes.reserveCapacity(bytes.count * 2 + der.count * 4 / 3 + der.count / 48 + 8)
        Base64.appendLines(der[...], to: &bytes)
        bytes.append(contentsOf: Array("-----END \(type)-----\n".utf8))
        return String(decoding: bytes, as: UTF8.self)
    }
}
