import Foundation
import X509

extension AuthorityManager {
    /// The certificate AWS IoT's RegisterCACertificate asks for to prove possession of the CA
    /// key: subject CN = the registration code, signed by the CA, for a throwaway key. It is
    /// recorded like every certificate the CA signs (without a thing).
    public func verificationCertificate(ca name: String, registrationCode code: String,
                                        validity: ValidityPeriod? = nil, now time: Date? = nil) throws -> IssuedCertificate {
        let now = time ?? store.clock.now()
        guard (1...64).contains(code.count), code.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
            throw PolicyError.invalidValue("registration code", reason: "\(PolicyError.quoted(code)) is not a registration code (1-64 letters and digits, as `aws iot get-registration-code` prints)")
        }
        let authority = try store.authority(named: name)
        let signer = try keyring.signer(for: authority)
        let template = Template(
            name: "aws-verification", description: nil, keyType: .ecP256, allowedKeyTypes: nil,
            validity: validity?.text ?? "7d", subject: .init(commonName: code), subjectAltNames: nil,
            keyUsage: ["digitalSignature"], extendedKeyUsage: nil, ca: false, pathLength: nil)
        let key = try KeyGenerator().generate(.ecP256)
        let policy = IssuancePolicy(template: template, thing: code, organization: try store.organization(), validity: validity)
        let issued = try signer.sign(try policy.decide(publicKey: key.publicKey, issuerName: name, issuer: signer.certificate, now: now))
        let entry = CertificateEntry(issued: issued, authority: name, thing: nil, subjectAuthority: nil, template: template.name,
                                     keyAlgorithm: .ecP256, now: now)
        try store.recordCertificate(entry, action: "certificate.verification", subject: code)
        return issued
    }
}
