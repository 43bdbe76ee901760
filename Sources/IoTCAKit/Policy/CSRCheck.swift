import Foundation
import SwiftASN1
import X509

/// Reads a PKCS#10 request (PEM or DER) and proves its key: the request's signature must
/// verify with the key it carries. Only that key is used; subject, extensions and attributes
/// the request asks for are ignored, since the template decides them.
public enum CSRCheck {
    /// Real CSRs are a few hundred bytes (an RSA-4096 one about 1.7 KB); anything this large is hostile.
    public static let maximumSize = 64 * 1024

    public static func publicKey(fromRequest bytes: [UInt8]) throws(PolicyError) -> Certificate.PublicKey {
        guard !bytes.isEmpty else { throw .invalidCSR(reason: "the file is empty") }
        guard bytes.count <= maximumSize else {
            throw .invalidCSR(reason: "larger than \(maximumSize / 1024) KiB")
        }
        let der: [UInt8]
        if let text = String(validating: bytes, as: UTF8.self), text.contains("-----BEGIN") {
            do {
                let document = try PEMDocument(pemString: text.trimmingCharacters(in: .whitespacesAndNewlines))
                guard ["CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST"].contains(document.discriminator) else {
                    throw PolicyError.invalidCSR(reason: "the PEM block is a \(document.discriminator), not a CERTIFICATE REQUEST")
                }
                der = document.derBytes
            } catch let error as PolicyError {
                throw error
            } catch {
                throw .invalidCSR(reason: "not a readable PEM block")
            }
        } else {
            der = bytes
        }
        let request: CertificateSigningRequest
        do {
            request = try CertificateSigningRequest(derEncoded: der)
        } catch {
            throw .invalidCSR(reason: "not a PKCS#10 certificate request (PEM or DER)")
        }
        guard KeyAlgorithm(publicKey: request.publicKey) != nil else {
            throw .invalidCSR(reason: "unsupported public key (accepted: \(KeyAlgorithm.namesForHelp))")
        }
        guard request.publicKey.isValidSignature(request.signature, for: request) else {
            throw .csrSignatureInvalid
        }
        return request.publicKey
    }
}
