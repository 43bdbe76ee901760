import SwiftASN1
import X509

/// A Matter vendor or product ID: 16 bits, written in a certificate's subject as a UTF8String
/// of exactly four upper-case hexadecimal digits ("FFF1").
public struct MatterID: Hashable, Sendable, CustomStringConvertible {
    public let value: UInt16

    public init(_ value: UInt16) { self.value = value }

    /// Four hexadecimal digits, either case (written upper-case); `kind` names it in the refusal.
    public init(_ text: String, kind: String) throws(PolicyError) {
        guard text.utf8.count == 4, text.utf8.allSatisfy({ Self.isUpperHex($0) || (0x61...0x66).contains($0) }),
              let value = UInt16(text, radix: 16) else {
            throw .outsideMatterProfile(rule: "a \(kind) is four hexadecimal digits, such as FFF1 (got \(PolicyError.quoted(text)))")
        }
        // 0000 names no vendor and no product (Matter reserves it).
        guard value != 0 else { throw .outsideMatterProfile(rule: "\(kind) 0000 is reserved") }
        self.value = value
    }

    /// As the certificate must carry it: exactly four upper-case hexadecimal digits.
    init?(certificateText text: String) {
        guard text.utf8.count == 4, text.utf8.allSatisfy(Self.isUpperHex),
              let value = UInt16(text, radix: 16) else { return nil }
        self.value = value
    }

    static func isUpperHex(_ byte: UInt8) -> Bool { (0x30...0x39).contains(byte) || (0x41...0x46).contains(byte) }

    public var description: String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: 4 - digits.count) + digits
    }
}

/// The vendor and product IDs a certificate's subject carries (Matter §6.2.2.2): as attributes
/// of their own (OIDs 1.3.6.1.4.1.37244.2.1 and .2.2), or, in certificates made before those
/// existed, as `Mvid:FFF1` / `Mpid:8000` inside the common name. The OIDs win when both exist.
public struct MatterIdentity: Equatable, Sendable {
    public var vendorID: MatterID?
    public var productID: MatterID?

    public init(vendorID: MatterID? = nil, productID: MatterID? = nil) {
        self.vendorID = vendorID
        self.productID = productID
    }

    static let vendorIDType: ASN1ObjectIdentifier = [1, 3, 6, 1, 4, 1, 37244, 2, 1]
    static let productIDType: ASN1ObjectIdentifier = [1, 3, 6, 1, 4, 1, 37244, 2, 2]

    /// Why a subject's IDs cannot be read: a malformed value, or an ID given twice.
    struct Unreadable: Error { let rule: String }

    /// The IDs in `subject`.
    /// - Throws: `Unreadable` for a value that is not four upper-case hex digits in a
    ///   UTF8String, an ID present twice, or a product ID without a vendor ID in attribute form.
    init(subject: DistinguishedName) throws(Unreadable) {
        var vendor: MatterID?, product: MatterID?, commonNames: [String] = []
        for rdn in subject {
            for attribute in rdn {
                let isVendor = attribute.type == Self.vendorIDType
                if attribute.type == .RDNAttributeType.commonName, let text = String(attribute.value) { commonNames.append(text) }
                guard isVendor || attribute.type == Self.productIDType else { continue }
                let name = isVendor ? "vendor ID" : "product ID"
                guard let text = try? ASN1UTF8String(asn1Any: ASN1Any(attribute.value)),
                      let id = MatterID(certificateText: String(text)) else {
                    throw Unreadable(rule: "the \(name) attribute must be a UTF8String of four upper-case hexadecimal digits")
                }
                if isVendor {
                    guard vendor == nil else { throw Unreadable(rule: "the subject names a vendor ID twice") }
                    vendor = id
                } else {
                    guard product == nil else { throw Unreadable(rule: "the subject names a product ID twice") }
                    product = id
                }
            }
        }
        if vendor == nil && product != nil { throw Unreadable(rule: "a product ID attribute needs a vendor ID attribute") }
        if vendor == nil, let commonName = commonNames.first {
            vendor = try Self.fallback("Mvid:", in: commonName)
            product = try Self.fallback("Mpid:", in: commonName)
        }
        self.init(vendorID: vendor, productID: product)
    }

    /// `Mvid:XXXX` / `Mpid:XXXX` in a common name: the tag exactly so, the value four upper-case
    /// hex digits (the SDK refuses `mvid:`, `Mvid:fff1` and `Mvid:FF1`).
    private static func fallback(_ tag: String, in commonName: String) throws(Unreadable) -> MatterID? {
        let bytes = Array(commonName.utf8), tagBytes = Array(tag.utf8)
        guard bytes.count >= tagBytes.count else { return nil }
        var found: MatterID?
        for start in 0...(bytes.count - tagBytes.count) where Array(bytes[start..<(start + tagBytes.count)]) == tagBytes {
            let valueStart = start + tagBytes.count
            let end = min(valueStart + 4, bytes.count)
            let text = String(decoding: bytes[valueStart..<end], as: UTF8.self)
            let following = end < bytes.count ? bytes[end] : nil
            guard let id = MatterID(certificateText: text), !(following.map(MatterID.isUpperHex) ?? false) else {
                throw Unreadable(rule: "\(tag) in the common name must be followed by exactly four upper-case hexadecimal digits")
            }
            guard found == nil else { throw Unreadable(rule: "the common name holds \(tag) twice") }
            found = id
        }
        return found
    }

    /// The subject attributes for these IDs, vendor first, as the SDK's certificates carry them.
    var subjectAttributes: [RelativeDistinguishedName] {
        [(Self.vendorIDType, vendorID), (Self.productIDType, productID)].compactMap { type, id in
            id.map { RelativeDistinguishedName(RelativeDistinguishedName.Attribute(type: type, utf8String: $0.description)) }
        }
    }
}
