import Foundation
import X509

/// A certificate serial: 20 bytes from a CSPRNG, positive, never sequential
/// (RFC 5280 4.1.2.2 allows at most 20 octets; CA/B Forum asks for 64+ random bits).
public struct SerialNumber: Sendable, Hashable, CustomStringConvertible {
    public let bytes: [UInt8]

    public static func random() -> SerialNumber {
        var bytes = SecureRandom.bytes(20)
        // Clear the sign bit so the INTEGER is positive in 20 octets, and set the next bit so it
        // never shrinks below 20 octets when DER drops leading zeros: 158 random bits remain.
        bytes[0] = (bytes[0] & 0x7F) | 0x40
        return SerialNumber(bytes: bytes)
    }

    public init(bytes: [UInt8]) { self.bytes = bytes }

    /// Parses lower- or upper-case hex, with or without `:` separators (as `openssl x509
    /// -serial` and browsers print them).
    public init?(hex: String) {
        let digits = hex.replacingOccurrences(of: ":", with: "").lowercased()
        guard !digits.isEmpty, digits.count <= 42, digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        var index = digits.startIndex
        while index < digits.endIndex {
            let next = digits.index(index, offsetBy: 2)
            guard let byte = UInt8(digits[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        self.bytes = bytes
    }

    init(_ serial: Certificate.SerialNumber) { self.bytes = Array(serial.bytes) }

    /// Lower-case hex without separators: the store's key and what the CLI prints.
    public var hex: String { bytes.hexString }
    public var description: String { hex }
    var x509: Certificate.SerialNumber { Certificate.SerialNumber(bytes: bytes) }
}

extension Sequence where Element == UInt8 {
    /// `AB:CD:...`, as `openssl x509 -fingerprint` prints digests.
    var colonHexString: String { map { String(format: "%02X", $0) }.joined(separator: ":") }

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
