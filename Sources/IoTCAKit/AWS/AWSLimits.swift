import Foundation

/// What AWS IoT documents about its inputs, checked before a file is written (AWS would refuse
/// the file, or worse, accept it and fail a device in the field). Sources: the IoT API model
/// (`botocore/data/iot/2015-05-28/service-2.json`): TemplateBody max 10,240, CertificatePem
/// 1..65,536, RoleArn 20..2,048, ThingName `[a-zA-Z0-9:_-]+` 1..128, PolicyName
/// `[\w+=,.@-]+` 1..128, CertificateId 64 hex.
enum AWSLimits {
    static let templateBody = 10_240
    static let certificatePEM = 65_536

    static func checkThingName(_ name: String) throws(AWSExportError) {
        guard (1...128).contains(name.utf8.count), name.utf8.allSatisfy({ byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: ":") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
        }) else { throw .invalidThingName(name) }
    }

    static func checkPolicyName(_ name: String) throws(AWSExportError) {
        guard (1...128).contains(name.utf8.count), name.unicodeScalars.allSatisfy({ scalar in
            scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || "_+=,.@-".unicodeScalars.contains(scalar))
        }) else { throw .invalid("policy name", name, reason: "1-128 of letters, digits and _+=,.@-") }
    }

    /// arn:PARTITION:iam::ACCOUNT:role/PATH/NAME, as IAM writes a role's ARN.
    static func checkRoleARN(_ arn: String) throws(AWSExportError) {
        let pattern = #"^arn:aws(-[a-z]+)*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$"#
        guard (20...2_048).contains(arn.utf8.count), arn.range(of: pattern, options: .regularExpression) != nil else {
            throw .invalid("role ARN", arn, reason: "want arn:aws:iam::123456789012:role/NAME")
        }
    }

    static func checkTemplateBody(_ body: String, name: String) throws(AWSExportError) {
        guard body.count <= templateBody else { throw .tooLarge(name, size: body.count, limit: templateBody) }
    }

    static func checkCertificatePEM(_ pem: String, name: String) throws(AWSExportError) {
        guard (1...certificatePEM).contains(pem.utf8.count) else { throw .tooLarge(name, size: pem.utf8.count, limit: certificatePEM) }
    }
}
