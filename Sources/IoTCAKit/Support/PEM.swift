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

    /// The first PEM block in `bytes` (RFC 7468): its label and DER. Text before the block is
    /// ignored, as OpenSSL does; inside it only base64 and whitespace are allowed, and the END
    /// line must name the BEGIN line's label. Nil when there is no such block. Read as bytes:
    /// through Foundation's string trimming and SwiftASN1's String-indexed parser a CSR took
    /// longer to read than to verify.
    public static func firstBlock(in bytes: [UInt8]) -> (label: String, der: [UInt8])? {
        let begin = Array("-----BEGIN ".utf8), dashes = Array("-----".utf8)
        guard let start = find(begin, in: bytes, from: 0),
              let labelEnd = find(dashes, in: bytes, from: start + begin.count) else { return nil }
        let label = bytes[(start + begin.count)..<labelEnd]
        guard !label.contains(0x0A) else { return nil }
        let end = Array("-----END ".utf8) + label + dashes
        guard let bodyEnd = find(end, in: bytes, from: labelEnd + dashes.count),
              let der = Base64.decode(bytes[(labelEnd + dashes.count)..<bodyEnd]) else { return nil }
        return (String(decoding: label, as: UTF8.self), der)
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8], from: Int) -> Int? {
        guard let first = needle.first, haystack.count >= needle.count else { return nil }
        var index = from
        while index <= haystack.count - needle.count {
            if haystack[index] == first && haystack[index..<(index + needle.count)].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }
}
