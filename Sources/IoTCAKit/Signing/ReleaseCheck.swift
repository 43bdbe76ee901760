import Foundation
import SwiftASN1
import X509

/// The last look before a certificate leaves the Signer. `CertificateWriter` writes DER by hand
/// for speed; here swift-certificates parses what it wrote and every field is compared with
/// what policy decided, and the signature is verified with the issuer's key. A bug in the
/// writer then stops one issuance instead of shipping a certificate nobody can read or trust.
enum ReleaseCheck {
    /// `verifySignature: false` skips only the signature verification (see `Signer`).
    static func check(_ der: [UInt8], against spec: CertificateSpec, issuerName: DistinguishedName,
                      issuerKey: Certificate.PublicKey, verifySignature: Bool) throws(SigningError) {
        func fail(_ what: String) -> SigningError { .releaseCheckFailed(what) }
        let certificate: Certificate
        do { certificate = try Certificate(derEncoded: der) } catch { throw fail("the DER does not parse: \(error)") }
        guard certificate.version == .v3 else { throw fail("version") }
        guard SerialNumber(certificate.serialNumber) == spec.serial else { throw fail("serial") }
        guard certificate.subject == spec.subject else { throw fail("subject") }
        guard certificate.issuer == issuerName else { throw fail("issuer") }
        // The key as written, byte for byte, against the key policy decided (cheaper than
        // comparing the decoded keys, which serializes both: 12 us a certificate, measured).
        let decided: [UInt8]
        do { decided = try spec.subjectPublicKeyInfoDER ?? CertificateWriter.serialized(spec.publicKey) } catch { throw fail("public key") }
        guard Fingerprints.subjectPublicKeyInfo(inCertificate: der).map(Array.init) == decided else { throw fail("public key") }
        guard certificate.notValidBefore == Date(timeIntervalSince1970: spec.notBefore.timeIntervalSince1970.rounded()),
              certificate.notValidAfter == Date(timeIntervalSince1970: spec.notAfter.timeIntervalSince1970.rounded()) else {
            throw fail("validity")
        }
        do {
            let extensions = certificate.extensions
            let constraints = try extensions.basicConstraints
            switch constraints {
            case .isCertificateAuthority(let pathLength):
                guard spec.isCA, pathLength == spec.pathLength else { throw fail("basicConstraints") }
            case .notCertificateAuthority, nil:
                guard !spec.isCA else { throw fail("basicConstraints") }
            }
            guard try extensions.keyUsage == spec.keyUsage else { throw fail("keyUsage") }
            let usages = try extensions.extendedKeyUsage.map(Array.init) ?? []
            guard usages == spec.extendedKeyUsage else { throw fail("extendedKeyUsage") }
            let names = try extensions.subjectAlternativeNames.map(Array.init) ?? []
            guard names == spec.subjectAltNames.map(\.generalName) else { throw fail("subjectAltName") }
            guard try extensions.subjectKeyIdentifier != nil, try extensions.authorityKeyIdentifier != nil else {
                throw fail("key identifiers")
            }
        } catch let error as SigningError {
            throw error
        } catch {
            throw fail("an extension does not parse: \(error)")
        }
        if verifySignature && !issuerKey.isValidSignature(certificate.signature, for: certificate) {
            throw fail("the signature does not verify with the issuer's key")
        }
        if let role = spec.matter {
            // On the certificate parsed once above: the DAC's profile costs no second parse.
            do { try MatterProfileCheck.check(der, parsed: certificate, as: role) } catch { throw .outsideProfile(error) }
        }
    }
}
