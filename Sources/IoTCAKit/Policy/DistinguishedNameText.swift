import SwiftASN1
import X509

/// A name as `DistinguishedName.description` writes it ("CN=d-1,O=fleet": RDNs last to first,
/// RFC 4514 escapes), built in one byte buffer. swift-certificates builds several arrays per
/// value ("a very slow way", its comment says), and the store records a subject per certificate.
enum DistinguishedNameText {
    static func text(_ name: DistinguishedName) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(64)
        for (index, rdn) in name.reversed().enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            for (position, attribute) in rdn.enumerated() {
                if position > 0 { bytes.append(UInt8(ascii: "+")) }
                guard let key = shortName(attribute.type), let value = String(attribute.value) else {
                    bytes.append(contentsOf: attribute.description.utf8)  // rare types: theirs
                    continue
                }
                bytes.append(contentsOf: key.utf8)
                bytes.append(UInt8(ascii: "="))
                appendEscaped(value, to: &bytes)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func shortName(_ type: ASN1ObjectIdentifier) -> String? {
        switch type {
        case .RDNAttributeType.commonName: return "CN"
        case .RDNAttributeType.countryName: return "C"
        case .RDNAttributeType.localityName: return "L"
        case .RDNAttributeType.stateOrProvinceName: return "ST"
        case .RDNAttributeType.organizationName: return "O"
        case .RDNAttributeType.organizationalUnitName: return "OU"
        case .RDNAttributeType.streetAddress: return "STREET"
        case .RDNAttributeType.domainComponent: return "DC"
        case .RDNAttributeType.emailAddress: return "E"
        default: return nil
        }
    }

    /// Leading spaces and '#', trailing spaces, and , + " \ < > ; anywhere are escaped with '\'.
    private static func appendEscaped(_ value: String, to bytes: inout [UInt8]) {
        let utf8 = value.utf8
        let leading = utf8.prefix { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "#") }.count
        var trailing = 0
        for byte in utf8.reversed() {
            guard byte == UInt8(ascii: " "), leading + trailing < utf8.count else { break }
            trailing += 1
        }
        for (offset, byte) in utf8.enumerated() {
            let edge = offset < leading || offset >= utf8.count - trailing
            switch byte {
            case UInt8(ascii: ","), UInt8(ascii: "+"), UInt8(ascii: "\""), UInt8(ascii: "\\"),
                 UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: ";"):
                bytes.append(UInt8(ascii: "\\"))
            default:
                if edge { bytes.append(UInt8(ascii: "\\")) }
            }
            bytes.append(byte)
        }
    }
}
