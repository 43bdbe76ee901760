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
        guard let bytes = Hex.decode(hex, allowColons: true), bytes.count <= 21 else { return nil }
        self.bytes = bytes
    }

    init(_ serial: Certificate.SerialNumber) { self.bytes = Array(serial.bytes) }

    /// Lower-case hex without separators: the store's key and what the CLI prints.
    public var hex: String { bytes.hexString }
    public var description: String { hex }
    var x509: Certificate.SerialNumber { Certificate.SerialNumber(bytes: bytes) }
}
