import SwiftASN1
import X509

/// The provisioning templates AWS IoT runs: just-in-time provisioning (JITP) on a device's
/// first connection, and bulk registration (`StartThingRegistrationTask`) of certificates iotca
/// already issued.
enum AWSProvisioningTemplate {
    /// A JITP parameter and where the certificate carries it. AWS fills only these eight
    /// (CommonName, Organization, OrganizationalUnit, Country, StateName,
    /// DistinguishedNameQualifier, SerialNumber, Id) and fails the provisioning when a declared
    /// one is missing from the subject.
    struct Parameter: Equatable {
        let name: String
        let attribute: ASN1ObjectIdentifier?

        var reference: String { "AWS::IoT::Certificate::\(name)" }
    }

    static let id = Parameter(name: "Id", attribute: nil)

    /// The parameters every certificate of `template` carries: the subject fields it always
    /// sets that AWS can read (locality has no JITP parameter), and the certificate id.
    static func parameters(of template: Template) throws(AWSExportError) -> [Parameter] {
        guard template.subject.commonName != nil else {
            throw .templateUnfitForJITP(template: template.name, reason: "the thing is named from the certificate's common name, and the template sets none")
        }
        let subject = template.subject
        let fields: [(String?, Parameter)] = [
            (subject.commonName, Parameter(name: "CommonName", attribute: .RDNAttributeType.commonName)),
            (subject.organization, Parameter(name: "Organization", attribute: .RDNAttributeType.organizationName)),
            (subject.organizationalUnit, Parameter(name: "OrganizationalUnit", attribute: .RDNAttributeType.organizationalUnitName)),
            (subject.country, Parameter(name: "Country", attribute: .RDNAttributeType.countryName)),
            (subject.stateOrProvince, Parameter(name: "StateName", attribute: .RDNAttributeType.stateOrProvinceName)),
            (subject.serialNumber, Parameter(name: "SerialNumber", attribute: [2, 5, 4, 5])),
        ]
        return fields.compactMap { value, parameter in value == nil ? nil : parameter } + [id]
    }

    /// Whether `certificate`'s subject holds each parameter (AWS's check on first connection).
    static func missing(_ parameters: [Parameter], in certificate: Certificate) -> Parameter? {
        parameters.first { parameter in
            guard let attribute = parameter.attribute else { return false }
            return !certificate.subject.contains { rdn in rdn.contains { $0.type == attribute } }
        }
    }

    /// The JITP template: the thing named from the common name (with the other subject fields
    /// as attributes), the certificate activated, `policy` attached when given.
    static func jitp(_ parameters: [Parameter], policy: String?) -> AWSJSON {
        var declared: [String: AWSJSON] = [:]
        for parameter in parameters { declared[parameter.reference] = .object(["Type": .string("String")]) }
        var attributes: [String: AWSJSON] = [:]
        for parameter in parameters where parameter.name != "CommonName" && parameter != id {
            attributes[parameter.name.prefix(1).lowercased() + parameter.name.dropFirst()] = .ref(parameter.reference)
        }
        var thing: [String: AWSJSON] = ["ThingName": .ref("AWS::IoT::Certificate::CommonName")]
        if !attributes.isEmpty { thing["AttributePayload"] = .object(attributes) }
        var resources: [String: AWSJSON] = [
            "thing": .object(["Type": .string("AWS::IoT::Thing"), "Properties": .object(thing)]),
            "certificate": .object(["Type": .string("AWS::IoT::Certificate"), "Properties": .object([
                "CertificateId": .ref(id.reference), "Status": .string("ACTIVE"),
            ])]),
        ]
        if let policy { resources["policy"] = policyResource(policy) }
        return .object(["Parameters": .object(declared), "Resources": .object(resources)])
    }

    /// Bulk registration of issued certificates: one NDJSON line per thing gives `ThingName`
    /// and `CertificatePem`, the two parameters declared.
    static let bulkParameters = ["CertificatePem", "ThingName"]

    static func bulk(policy: String?) -> AWSJSON {
        var declared: [String: AWSJSON] = [:]
        for parameter in bulkParameters { declared[parameter] = .object(["Type": .string("String")]) }
        var resources: [String: AWSJSON] = [
            "thing": .object(["Type": .string("AWS::IoT::Thing"), "Properties": .object(["ThingName": .ref("ThingName")])]),
            "certificate": .object(["Type": .string("AWS::IoT::Certificate"), "Properties": .object([
                "CertificatePem": .ref("CertificatePem"), "Status": .string("ACTIVE"),
            ])]),
        ]
        if let policy { resources["policy"] = policyResource(policy) }
        return .object(["Parameters": .object(declared), "Resources": .object(resources)])
    }

    private static func policyResource(_ name: String) -> AWSJSON {
        .object(["Type": .string("AWS::IoT::Policy"), "Properties": .object(["PolicyName": .string(name)])])
    }
}
