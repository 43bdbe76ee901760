/// Base64 in PEM's shape (RFC 7468): 64-character lines ending in "\n". Foundation's encoder
/// either ends lines with "\r\n" or not at all, and is slow on tens of megabytes.
enum Base64 {
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// The encoded length of `count` bytes, newlines included.
    static func lineEncodedCount(_ count: Int) -> Int {
        let characters = (count + 2) / 3 * 4
        return characters + (characters + 63) / 64
    }

    static func appendLines(_ bytes: ArraySlice<UInt8>, to output: inout [UInt8]) {
        let start = output.count
        let added = lineEncodedCount(bytes.count)
        // Written into the array's spare capacity in one pass: per-byte appends each checked
        // capacity and uniqueness (a bundle encodes two PEM bodies).
        output.append(contentsOf: repeatElement(0, count: added))
        output.withUnsafeMutableBufferPointer { buffer in
            alphabet.withUnsafeBufferPointer { table in
                bytes.withUnsafeBufferPointer { input in
                    var out = start
                    var index = 0
                    var column = 0
                    let count = input.count
                    while index < count {
                        let remaining = count - index
                        let b0 = input[index]
                        let b1 = remaining > 1 ? input[index + 1] : 0
                        let b2 = remaining > 2 ? input[index + 2] : 0
                        buffer[out] = table[Int(b0 >> 2)]
                        buffer[out + 1] = table[Int((b0 & 0x03) << 4 | b1 >> 4)]
                        buffer[out + 2] = remaining > 1 ? table[Int((b1 & 0x0F) << 2 | b2 >> 6)] : 0x3D
                        buffer[out + 3] = remaining > 2 ? table[Int(b2 & 0x3F)] : 0x3D
                        out += 4
                        index += 3
                        column += 4
                        if column == 64 {
                            buffer[out] = 0x0A
                            out += 1
                            column = 0
                        }
                    }
                    if column > 0 { buffer[out] = 0x0A }
                }
            }
        }
    }

    /// Decodes base64 with whitespace anywhere (PEM's line breaks) and `=` padding only at the
    /// end; nil for any other character, a misplaced `=` or a length that is not whole quads.
    static func decode(_ text: ArraySlice<UInt8>) -> [UInt8]? {
        var output: [UInt8] = []
        output.reserveCapacity(text.count * 3 / 4)
        var quad: UInt32 = 0, filled = 0, padding = 0
        for byte in text {
            let value: UInt32
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = UInt32(byte - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = UInt32(byte - UInt8(ascii: "a")) + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = UInt32(byte - UInt8(ascii: "0")) + 52
            case UInt8(ascii: "+"): value = 62
            case UInt8(ascii: "/"): value = 63
            case UInt8(ascii: "="):
                // Only the last one or two characters of the last quad.
                guard filled >= 2 else { return nil }
                padding += 1
                value = 0
            case 0x20, 0x09, 0x0A, 0x0D: continue
            default: return nil
            }
            if padding > 0 && byte != UInt8(ascii: "=") { return nil }
            quad = quad << 6 | value
            filled += 1
            if filled == 4 {
                output.append(UInt8(truncatingIfNeeded: quad >> 16))
                if padding < 2 { output.append(UInt8(truncatingIfNeeded: quad >> 8)) }
                if padding < 1 { output.append(UInt8(truncatingIfNeeded: quad)) }
                quad = 0
                filled = 0
                if padding > 0 { padding = 3 }  // nothing may follow a padded quad
            }
        }
        guard filled == 0 else { return nil }
        return output
    }
}
