/// Base64 in PEM's shape (RFC 7468): 64-character lines ending in "\n". Foundation's encoder
/// either ends lines with "\r\n" or not at all, and is slow on tens of megabytes.
enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func appendLines(_ bytes: ArraySlice<UInt8>, to output: inout [UInt8]) {
        var index = bytes.startIndex
        var column = 0
        while index < bytes.endIndex {
            let remaining = bytes.endIndex - index
            let b0 = bytes[index]
            let b1 = remaining > 1 ? bytes[index + 1] : 0
            let b2 = remaining > 2 ? bytes[index + 2] : 0
            output.append(alphabet[Int(b0 >> 2)])
            output.append(alphabet[Int((b0 & 0x03) << 4 | b1 >> 4)])
            output.append(remaining > 1 ? alphabet[Int((b1 & 0x0F) << 2 | b2 >> 6)] : 0x3D)
            output.append(remaining > 2 ? alphabet[Int(b2 & 0x3F)] : 0x3D)
            index += min(3, remaining)
            column += 4
            if column == 64 {
                output.append(0x0A)
                column = 0
            }
        }
        if column > 0 { output.append(0x0A) }
    }
}
