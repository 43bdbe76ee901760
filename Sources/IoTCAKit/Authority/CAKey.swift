import CPKCS11
import Foundation
import X509

/// A CA's private key where it lives: a key file's (decrypted in memory), or a token's (it
/// never leaves the token). Everything that makes or certifies a CA signs through this.
enum CAKey {
    case file(PrivateKeyMaterial)
    /// The key and its full URI (label, id, module) as the store keeps it.
    case token(TokenKey, PKCS11URI)

    var publicKey: Certificate.PublicKey {
        switch self {
        case .file(let key): return key.publicKey
        case .token(let key, _): return key.publicKey
        }
    }

    var algorithm: KeyAlgorithm {
        switch self {
        case .file(let key): return key.algorithm
        case .token(let key, _): return key.algorithm
        }
    }

    func signingKey() throws -> Certificate.PrivateKey {
        switch self {
        case .file(let key): return try key.signingKey()
        case .token(let key, _): return Certificate.PrivateKey(key)
        }
    }

    func selfSign(_ spec: CertificateSpec) throws -> IssuedCertificate {
        try Signer.selfSign(spec, signingKey: signingKey(), publicKey: publicKey, algorithm: algorithm)
    }
}

extension Keyring {
    /// A new CA key: in `token` when given (labelled `name`, or the existing key its `object=`
    /// names, checked against nothing yet: it is about to be certified), else generated in memory
    /// for a key file.
    func newCAKey(_ algorithm: KeyAlgorithm, name: String, token: PKCS11URI?) throws -> CAKey {
        guard let token else { return .file(try KeyGenerator().generate(algorithm)) }
        if token.object != nil || token.id != nil {
            let key = try openTokenKey(token, algorithm: algorithm, authority: name, expected: nil)
            var location = token
            if location.id == nil { location.id = try key.session.attribute(CK_ATTRIBUTE_TYPE(CKA_ID), of: key.handle) }
            return .token(key, location)
        }
        let (key, location) = try generateTokenKey(algorithm, in: token, label: name)
        return .token(key, location)
    }
}
