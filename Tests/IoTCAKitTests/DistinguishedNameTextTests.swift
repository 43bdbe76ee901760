import Foundation
@testable import IoTCAKit
import SwiftASN1
import Testing
import X509

/// The store's subject column must read as swift-certificates' `description` wrote it before
/// the hand-written form replaced it on the issuing path.
@Suite struct DistinguishedNameTextTests {
    static let values = [
        "d-1", "", " ", "   ", "#", "##x", " #lead", "# a  ", "trail  ", "mid dle", "a,b+c\"d\\e<f>g;h", ",+;",
        " , ", "#,#", "x#y", "é ü 😀", "  é  ", "\\", "tab\there", "=equals=",
    ]

    @Test(arguments: values)
    func textEqualsDescription(_ value: String) throws {
        let names: [DistinguishedName] = [
            DistinguishedName([RelativeDistinguishedName(.init(type: .RDNAttributeType.commonName, utf8String: value))]),
            try DistinguishedName {
                OrganizationName(value)
                OrganizationalUnitName("unit")
                CommonName(value)
            },
            DistinguishedName([
                RelativeDistinguishedName(.init(type: .RDNAttributeType.organizationName, utf8String: "fleet, inc")),
                RelativeDistinguishedName([
                    .init(type: .RDNAttributeType.commonName, utf8String: value),
                    .init(type: .RDNAttributeType.localityName, utf8String: "L " + value),
                ]),
            ]),
        ]
        for name in names {
            #expect(DistinguishedNameText.text(name) == name.description)
        }
    }

    @Test func otherTypesAndStringKindsFallBackOrMatch() throws {
        let name = DistinguishedName([
            RelativeDistinguishedName(try .init(type: .RDNAttributeType.countryName, printableString: "FR")),
            RelativeDistinguishedName(try .init(type: [2, 5, 4, 5], printableString: "SN 42")),
            RelativeDistinguishedName(try .init(type: .RDNAttributeType.emailAddress, ia5String: "ops@example.com")),
            RelativeDistinguishedName(.init(type: .RDNAttributeType.domainComponent, utf8String: "example")),
            RelativeDistinguishedName(.init(type: .RDNAttributeType.stateOrProvinceName, utf8String: " Île-de-France ")),
        ])
        #expect(DistinguishedNameText.text(name) == name.description)
    }
}
