/// Why a CMP request is refused: the PKIFailureInfo bit the client reads (RFC 9810 5.2.3) and a
/// sentence for the person reading the client's log (the error message's statusString).
public struct CMPFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// PKIFailureInfo bit numbers.
    public enum Bit: Int, Sendable {
        case badAlg = 0, badMessageCheck = 1, badRequest = 2, badTime = 3, badCertId = 4, badDataFormat = 5
        case wrongAuthority = 6, incorrectData = 7, badPOP = 9, certRevoked = 10, certConfirmed = 11
        case badRecipientNonce = 13, badSenderNonce = 18, badCertTemplate = 19, signerNotTrusted = 20
        case transactionIdInUse = 21, unsupportedVersion = 22, notAuthorized = 23, systemUnavail = 24
        case systemFailure = 25, duplicateCertReq = 26
    }

    public let bit: Bit
    public let reason: String

    public init(_ bit: Bit, _ reason: String) {
        self.bit = bit
        self.reason = reason
    }

    public var description: String { "\(bit): \(reason)" }

    /// PKIFailureInfo as DER BIT STRING contents (the unused-bits byte first): named bits
    /// end at the last one set (X.690 11.2.2).
    var bitStringContents: [UInt8] {
        let index = bit.rawValue
        var bytes = [UInt8](repeating: 0, count: index / 8 + 1)
        bytes[index / 8] = 0x80 >> UInt8(index % 8)
        return [UInt8(7 - index % 8)] + bytes
    }
}
