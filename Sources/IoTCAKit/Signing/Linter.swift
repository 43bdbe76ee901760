import Foundation
import X509

/// Checks a decided certificate against RFC 5280 and its issuer before any signature exists,
/// as Boulder lints every certificate: a bug in policy must not become a signed certificate.
enum Linter {
    static func check(_ spec: CertificateSpec, issuer: Certificate?) throws(SigningError) {
        let serial = spec.serial.bytes
        guard (1...20).contains(serial.count), let first = serial.first, first & 0x80 == 0, serial.contains(where: { $0 != 0 }) else {
            throw .lintFailed("serial must be a positive integer of at most 20 octets")
        }
        guard spec.notBefore < spec.notAfter else { throw .lintFailed("notBefore is not before notAfter") }
        if spec.subject.isEmpty && spec.subjectAltNames.isEmpty {
            throw .lintFailed("a certificate needs a subject or a subject alternative name")
        }
        if spec.isCA {
            guard spec.keyUsage.keyCertSign else { throw .lintFailed("a CA certificate needs keyUsage keyCertSign") }
            guard !spec.subject.isEmpty else { throw .lintFailed("a CA certificate needs a subject") }
        } else {
            guard !spec.keyUsage.keyCertSign, !spec.keyUsage.cRLSign else {
                throw .lintFailed("an end-entity certificate must not have keyCertSign or cRLSign")
            }
            guard spec.pathLength == nil else { throw .lintFailed("pathLength on an end-entity certificate") }
        }
        guard let issuer else { return }
        guard case .isCertificateAuthority(let issuerPathLength) = (try? issuer.extensions.basicConstraints) ?? .notCertificateAuthority,
              (try? issuer.extensions.keyUsage)??.keyCertSign == true else {
            throw .lintFailed("the issuer \(issuer.subject) is not a CA that may sign certificates")
        }
        if spec.isCA, let issuerPathLength {
            guard issuerPathLength > 0 else {
                throw .lintFailed("the issuer has pathLength 0: it may not certify another CA")
            }
            if let pathLength = spec.pathLength, pathLength >= issuerPathLength {
                throw .lintFailed("pathLength \(pathLength) must be below the issuer's \(issuerPathLength)")
            }
        }
        guard spec.notBefore >= issuer.notValidBefore, spec.notAfter <= issuer.notValidAfter else {
            throw .lintFailed("validity \(spec.notBefore) to \(spec.notAfter) is outside the issuer's \(issuer.notValidBefore) to \(issuer.notValidAfter)")
        }
    }
}
