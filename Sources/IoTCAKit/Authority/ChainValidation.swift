import Foundation
import X509

/// Checks that a CA certificate chains to a self-signed root under RFC 5280's rules, with
/// swift-certificates' `Verifier` and `RFC5280Policy`: signatures, issuer and subject names,
/// validity at `now`, basicConstraints and path lengths, keyCertSign, critical extensions. (It
/// replaced a hand-written check of names and signatures alone.)
enum ChainValidation {
    /// The validated chain above `leaf` (its issuers in order, the root last), built from
    /// `candidates` in any order; or the reason it does not validate, for a person.
    static func validate(leaf: Certificate, candidates: [Certificate], now: Date) async -> Result<[Certificate], Failure> {
        let roots = candidates.filter { $0.subject == $0.issuer }
        guard !roots.isEmpty else {
            return .failure(Failure("the chain does not end at a self-signed root: add the root certificate to the chain"))
        }
        let intermediates = candidates.filter { $0.subject != $0.issuer }
        var verifier = Verifier(rootCertificates: CertificateStore(roots)) { RFC5280Policy(validationTime: now) }
        switch await verifier.validate(leaf: leaf, intermediates: CertificateStore(intermediates)) {
        case .validCertificate(let chain):
            // The leaf is a CA: it is only useful if its issuers' path lengths leave room for
            // it to certify a device (root -> ... -> issuer -> leaf -> device). The Verifier
            // judged the leaf as an end of path, where that question does not arise.
            let issuers = Array(chain.dropFirst())
            for (depth, issuer) in issuers.enumerated() {
                if case .isCertificateAuthority(let pathLength)? = try? issuer.extensions.basicConstraints,
                   let pathLength, pathLength < depth + 1 {
                    return .failure(Failure("\(issuer.subject) has path length \(pathLength), which leaves no room for this CA to issue certificates"))
                }
            }
            return .success(issuers)
        case .couldNotValidate(let failures):
            let reasons = Set(failures.map { $0.policyFailureReason.description }).sorted()
            return .failure(Failure(reasons.isEmpty ? "no chain to a root could be built from the certificates given" : reasons.joined(separator: "; ")))
        }
    }

    struct Failure: Error {
        let reason: String
        init(_ reason: String) { self.reason = reason }
    }
}
