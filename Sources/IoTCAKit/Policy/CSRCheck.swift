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
        try requestKey(fromRequest: bytes).publicKey
    }

    /// The proven key, and its SubjectPublicKeyInfo as the request carries it when that is
    /// byte for byte the encoding a certificate gets (`CanonicalSPKI`): the certificate
    /// takes those bytes instead of encoding the key again, which for an EC key costs a
    /// field inversion (twice: the writer and the release check).
    static func requestKey(fromRequest bytes: [UInt8]) throws(PolicyError) -> (publicKey: Certificate.PublicKey, subjectPublicKeyInfoDER: [UInt8]?) {
        guard !bytes.isEmpty else { throw .invalidCSR(reason: "the file is empty") }
        guard bytes.count <= maximumSize else {
            throw .invalidCSR(reason: "larger than \(maximumSize / 1024) KiB")
        }
        let der: [UInt8]
        if let block = PEM.firstBlock(in: bytes) {
            guard ["CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST"].contains(block.label) else {
                throw .invalidCSR(reason: "the PEM block is a \(block.label), not a CERTIFICATE REQUEST")
            }
            der = block.der
        } else if PEM.find(Array("-----BEGIN".utf8), in: bytes, from: 0) != nil {
            throw .invalidCSR(reason: "not a readable PEM block")
        } else {
            der = bytes
        }
        // A signature made with a broken hash proves nothing about who holds the key (Boulder
        // refuses them too): named before parsing, which refuses some of them as unreadable.
        if let weak = weakSignatureAlgorithm(inRequest: der) {
            throw .invalidCSR(reason: "signed with \(weak), a broken hash: sign the request with SHA-256 or stronger")
        }
        let request: CertificateSigningRequest
        do {
            request = try CertificateSigningRequest(derEncoded: der)
        } catch {
            // swift-certificates refuses keys it cannot use (RSA under 2048 bits, curves other
            // than P-256/384/521) at parse time: name the key rather than blame the file.
            if let key = describeKey(inRequest: der) {
                throw .invalidCSR(reason: "unsupported public key: \(key) (accepted: \(KeyAlgorithm.namesForHelp))")
            }
            throw .invalidCSR(reason: "not a PKCS#10 certificate request (PEM or DER)")
        }
        guard KeyAlgorithm(publicKey: request.publicKey) != nil else {
            let key = describeKey(inRequest: der) ?? "this key type"
            throw .invalidCSR(reason: "unsupported public key: \(key) (accepted: \(KeyAlgorithm.namesForHelp))")
        }
        guard request.publicKey.isValidSignature(request.signature, for: request) else {
            throw .csrSignatureInvalid
        }
        return (request.publicKey, CanonicalSPKI.bytes(inRequest: der))
    }

    /// Signature algorithms whose hash is broken for signatures (collisions are practical).
    static let weakSignatureAlgorithms: [String: String] = [
        "1.2.840.113549.1.1.2": "md2WithRSAEncryption (MD2)",
        "1.2.840.113549.1.1.3": "md4WithRSAEncryption (MD4)",
        "1.2.840.113549.1.1.4": "md5WithRSAEncryption (MD5)",
        "1.2.840.113549.1.1.5": "sha1WithRSAEncryption (SHA-1)",
        "1.3.14.3.2.29": "sha1WithRSASignature (SHA-1)",
        "1.2.840.10045.4.1": "ecdsa-with-SHA1 (SHA-1)",
        "1.2.840.10040.4.3": "dsa-with-sha1 (SHA-1)",
    ]

    /// The name of the request's signature algorithm (RFC 2986 4.2, the second element) when it
    /// is one of `weakSignatureAlgorithms`; also RSASSA-PSS with a SHA-1 or MD5 hash.
    static func weakSignatureAlgorithm(inRequest der: [UInt8]) -> String? {
        let reader = DERReader(bytes: der)
        guard let request = reader.element(at: 0, limit: der.count), request.tag == 0x30,
              let info = reader.firstChild(of: request),
              let algorithm = reader.next(after: info, in: request), algorithm.tag == 0x30,
              let oid = reader.firstChild(of: algorithm), oid.tag == 0x06,
              let identifier = try? ASN1ObjectIdentifier(derEncoded: reader.slice(oid)) else { return nil }
        if let weak = weakSignatureAlgorithms[identifier.description] { return weak }
        // RSASSA-PSS names its hash in the parameters: sha1 (1.3.14.3.2.26) is the default.
        if identifier.description == "1.2.840.113549.1.1.10" {
            guard let parameters = reader.next(after: oid, in: algorithm), parameters.tag == 0x30 else {
                return "RSASSA-PSS with its default hash (SHA-1)"
            }
            let hashField = reader.firstChild(of: parameters)
            guard let hashField, hashField.tag == 0xA0 else { return "RSASSA-PSS with its default hash (SHA-1)" }
            if let hashAlgorithm = reader.firstChild(of: hashField), let hashOID = reader.firstChild(of: hashAlgorithm),
               let hash = try? ASN1ObjectIdentifier(derEncoded: reader.slice(hashOID)),
               ["1.3.14.3.2.26", "1.2.840.113549.2.5"].contains(hash.description) {
                return "RSASSA-PSS with \(hash.description == "1.3.14.3.2.26" ? "SHA-1" : "MD5")"
            }
        }
        return nil
    }

    /// Names the key of a request that is well-formed up to its SubjectPublicKeyInfo
    /// (RFC 2986 4.1), e.g. "EC curve secp256k1 (1.3.132.0.10)" or "RSA 1024 bits"; nil when the
    /// bytes do not get that far.
    static func describeKey(inRequest der: [UInt8]) -> String? {
        let reader = DERReader(bytes: der)
        guard let request = reader.element(at: 0, limit: der.count), request.tag == 0x30,
              let info = reader.firstChild(of: request), info.tag == 0x30,
              let version = reader.firstChild(of: info), version.tag == 0x02,
              let subject = reader.next(after: version, in: info), subject.tag == 0x30,
              let spki = reader.next(after: subject, in: info), spki.tag == 0x30,
              let algorithm = reader.firstChild(of: spki), algorithm.tag == 0x30,
              let oid = reader.firstChild(of: algorithm), oid.tag == 0x06,
              let algorithmOID = try? ASN1ObjectIdentifier(derEncoded: reader.slice(oid)) else { return nil }
        let parameters = reader.next(after: oid, in: algorithm)
        switch algorithmOID.description {
        case "1.2.840.10045.2.1":
            guard let parameters, parameters.tag == 0x06,
                  let curve = try? ASN1ObjectIdentifier(derEncoded: reader.slice(parameters)) else { return "EC key with explicit parameters" }
            let names = ["1.2.840.10045.3.1.7": "P-256", "1.3.132.0.34": "P-384", "1.3.132.0.35": "P-521", "1.3.132.0.10": "secp256k1",
                         "1.3.36.3.3.2.8.1.1.7": "brainpoolP256r1", "1.3.36.3.3.2.8.1.1.11": "brainpoolP384r1",
                         "1.3.36.3.3.2.8.1.1.13": "brainpoolP512r1", "1.2.840.10045.3.1.1": "P-192", "1.3.132.0.33": "P-224"]
            return "EC curve \(names[curve.description].map { "\($0) (\(curve))" } ?? curve.description)"
        case "1.2.840.113549.1.1.1":
            // subjectPublicKey BIT STRING { RSAPublicKey SEQUENCE { modulus INTEGER, ... } }
            guard let bits = reader.next(after: algorithm, in: spki), bits.tag == 0x03,
                  let key = reader.element(at: bits.contents + 1, limit: bits.end), key.tag == 0x30,
                  let modulus = reader.firstChild(of: key), modulus.tag == 0x02 else { return "RSA key" }
            let magnitude = der[modulus.contents..<modulus.end].drop { $0 == 0 }
            let size = magnitude.first.map { magnitude.count * 8 - $0.leadingZeroBitCount } ?? 0
            return size < 2048 ? "RSA \(size) bits (at least 2048 required)" : "RSA \(size) bits"
        case "1.3.101.113": return "Ed448"
        case "1.3.101.110", "1.3.101.111": return "X25519/X448 (key agreement only)"
        case "1.2.840.10040.4.1": return "DSA"
        default: return "key algorithm \(algorithmOID)"
        }
    }
}
