/// Hex, the one parser and the one printer of the library. The parser is strict: an even
/// number of hex digits and nothing else (optionally `:` between bytes, as `openssl x509
/// -serial` and browsers print them). A stored serial or pin that does not parse is an error,
/// never a value with its odd characters skipped.
enum Hex {
    /// The bytes of `text`; nil for an odd count, an empty text or any other character.
    static func decode(_ text: some Collection<UInt8>, allowColons: Bool = false) -> [UInt8]? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.count / 2)
        return append(text, to: &bytes, allowColons: allowColons) && !bytes.isEmpty ? bytes : nil
    }

    static func decode(_ text: String, allowColons: Bool = false) -> [UInt8]? {
        decode(Array(text.utf8), allowColons: allowColons)
    }

    /// Appends the bytes of `text` to `bytes`; false, with `bytes` in an unspecified state, when
    /// `text` is not strict hex.
    static func append(_ text: some Collection<UInt8>, to bytes: inout [UInt8], allowColons: Bool = false) -> Bool {
        var high: UInt8?
        for character in text {
            let nibble: UInt8
            switch character {
            case 0x30...0x39: nibble = character - 0x30
            case 0x61...0x66: nibble = character - 0x61 + 10
            case 0x41...0x46: nibble = character - 0x41 + 10
            case 0x3A where allowColons && high == nil: continue
            default: return false
            }
            if let value = high {
                bytes.append(value << 4 | nibble)
                high = nil
            } else {
                high = nibble
            }
        }
        return high == nil
    }
}

extension Hex {
    /// `append(_:to:)` without colons, for text in memory: two characters at a time into
    /// storage reserved once (false, with `bytes` in an unspecified state, for anything else).
    /// The CRL loop decodes a million serials with it into one reused buffer, where the
    /// character-at-a-time loop cost a tenth of a million-entry CRL's publication. Its digits are
    /// read apart from `append`'s on purpose: `EncoderTests` holds the two to each other.
    static func appendPairs(_ text: UnsafeBufferPointer<UInt8>, to bytes: inout [UInt8]) -> Bool {
        guard text.count % 2 == 0 else { return false }
        bytes.reserveCapacity(bytes.count + text.count / 2)
        var index = 0
        while index < text.count {
            let high = nibble(text[index]), low = nibble(text[index + 1])
            guard (high | low) & 0xF0 == 0 else { return false }
            bytes.append(high << 4 | low)
            index += 2
        }
        return true
    }

    /// 0-15 for a hex digit of either case, 0xFF for anything else.
    @inline(__always) private static func nibble(_ character: UInt8) -> UInt8 {
        let digit = character &- 0x30
        if digit < 10 { return digit }
        let letter = (character | 0x20) &- 0x61  // upper case folded onto lower
        return letter < 6 ? letter + 10 : 0xFF
    }
}

extension Sequence where Element == UInt8 {
    /// `AB:CD:...`, as `openssl x509 -fingerprint` prints digests.
    var colonHexString: String { map { String(format: "%02X", $0) }.joined(separator: ":") }

    /// Lower-case hex without separators.
    var hexString: String {
        var digits: [UInt8] = []
        digits.reserveCapacity(underestimatedCount * 2)
        for byte in self {
            digits.append(Self.hexDigit(byte >> 4))
            digits.append(Self.hexDigit(byte & 0x0F))
        }
        return String(decoding: digits, as: UTF8.self)
    }

    private static func hexDigit(_ nibble: UInt8) -> UInt8 { nibble < 10 ? 0x30 + nibble : 0x57 + nibble }
}
