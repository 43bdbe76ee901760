import Foundation
import X509

/// What `doctor` says about the next roots: each standby key should carry the self-signed
/// certificate firmware trust stores hold, and that certificate must be the one `rotate-root`
/// can use (it certifies the key, signed by it, not expired).
enum NextRootCheck {
    /// A year is the least a firmware image in the field should have left to trust it.
    static let warningMargin: TimeInterval = 365 * 86_400

    static func findings(_ standby: [StandbyKey], now: Date) -> [(subject: String, problem: String)] {
        var findings: [(String, String)] = []
        for key in standby {
            guard let der = key.certificateDER else {
                findings.append((key.name, "the next root has no certificate yet, so firmware cannot trust it before the rotation: certify it in advance (prepare-root)"))
                continue
            }
            guard let certificate = try? Certificate(derEncoded: der) else {
                findings.append((key.name, "the next root's recorded certificate does not parse"))
                continue
            }
            if (try? Fingerprints.spkiSHA256(of: certificate.publicKey).hexString) != key.spkiSHA256 {
                findings.append((key.name, "the next root's certificate certifies another key than the standby key"))
            } else if !certificate.publicKey.isValidSignature(certificate.signature, for: certificate) || certificate.issuer != certificate.subject {
                findings.append((key.name, "the next root's certificate is not self-signed by its key"))
            }
            if certificate.notValidAfter <= now {
                findings.append((key.name, "the next root's certificate expired on \(Timestamp.format(certificate.notValidAfter)): rotate-root refuses it"))
            } else if certificate.notValidAfter.timeIntervalSince(now) < warningMargin {
                findings.append((key.name, "the next root's certificate expires on \(Timestamp.format(certificate.notValidAfter)): rotate the root before then"))
            }
        }
        return findings
    }
}
