import CPKCS11
import Crypto
import Foundation
import SwiftASN1
import X509

/// Opening and making CA keys in PKCS#11 tokens, through the keyring (which has the PIN).
extension Keyring {
    /// The session on `uri`'s token (module loaded and logged in once per process).
    func tokenSession(_ uri: PKCS11URI) throws -> PKCS11Session {
        guard let path = uri.modulePath, let token = uri.token else {
            throw PKCS11Error.invalidURI(uri.description, reason: "the module's path and token= are both needed")
        }
        return try PKCS11Module.load(path).session(token: token) { () throws -> Passphrase in
            guard let source = tokenPIN else { throw PKCS11Error.pinRequired }
            do {
                return try source.passphrase()
            } catch KeyError.noPassphraseSource {
                throw PKCS11Error.pinRequired
            }
        }
    }

    /// The private key at `uri`, checked to be the key `expected` names (the CA's certificate
    /// or CSR): by the public key object beside it, else by a test signature.
    /// - Throws: `PKCS11Error` (module, token, PIN, object, mismatch).
    func openTokenKey(_ uri: PKCS11URI, algorithm: KeyAlgorithm, authority: String, expected: Certificate.PublicKey?) throws -> TokenKey {
        let session = try tokenSession(uri)
        let found = try session.find(CK_OBJECT_CLASS(CKO_PRIVATE_KEY), label: uri.object, id: uri.id)
        guard let handle = found.first else { throw PKCS11Error.objectNotFound(uri.withoutModule) }
        guard found.count == 1 else {
            throw PKCS11Error.invalidURI(uri.withoutModule, reason: "it matches \(found.count) private keys: add id= to name one")
        }
        let id = try uri.id ?? session.attribute(CK_ATTRIBUTE_TYPE(CKA_ID), of: handle)
        let publicObject = try session.find(CK_OBJECT_CLASS(CKO_PUBLIC_KEY), label: uri.object, id: id).first
        let tokenPublic = try publicObject.flatMap { try Self.publicKey(of: $0, in: session, algorithm: algorithm) }
        guard let publicKey = tokenPublic ?? expected else {
            throw PKCS11Error.unsupportedKey("the token shows no public key for \(uri.withoutModule)")
        }
        let key = TokenKey(session: session, handle: handle, label: uri.object, id: id, algorithm: algorithm, publicKey: publicKey,
                           location: uri.withoutModule)
        if let expected {
            // A public object that disagrees, or a signature the certificate's key does not verify.
            if let tokenPublic, tokenPublic != expected { throw PKCS11Error.keyMismatch(authority: authority, location: uri.withoutModule) }
            if tokenPublic == nil { try Self.proveMatch(key, expected: expected, authority: authority) }
        }
        return key
    }

    /// A new key pair in `uri`'s token labelled `label`, with a random id; returns it and its
    /// full URI (label, id, module) for the store.
    func generateTokenKey(_ algorithm: KeyAlgorithm, in uri: PKCS11URI, label: String) throws -> (TokenKey, PKCS11URI) {
        let session = try tokenSession(uri)
        let id = SecureRandom.bytes(8)
        let (privateKey, publicObject) = try session.generateKeyPair(algorithm, label: label, id: id)
        guard let publicKey = try Self.publicKey(of: publicObject, in: session, algorithm: algorithm) else {
            session.destroy(privateKey)
            session.destroy(publicObject)
            throw PKCS11Error.unsupportedKey("the token shows no public key for the key it made")
        }
        let location = PKCS11URI(token: uri.token, object: label, id: id, modulePath: uri.modulePath)
        return (TokenKey(session: session, handle: privateKey, label: label, id: id, algorithm: algorithm, publicKey: publicKey,
                         location: location.withoutModule), location)
    }

    /// Signs a test message in the token and verifies it with `expected`.
    static func proveMatch(_ key: TokenKey, expected: Certificate.PublicKey, authority: String) throws {
        let message = Array("iotca key check \(authority)".utf8)
        let signature = try key.sign(message)
        guard expected.isValidSignature(signature, for: message, signatureAlgorithm: key.algorithm.signatureAlgorithm) else {
            throw PKCS11Error.keyMismatch(authority: authority, location: key.location)
        }
    }

    /// The public key of a token object: CKA_EC_POINT (an OCTET STRING holding the point, or the
    /// bare point as some tokens give it) or CKA_MODULUS and CKA_PUBLIC_EXPONENT.
    static func publicKey(of object: CK_OBJECT_HANDLE, in session: PKCS11Session, algorithm: KeyAlgorithm) throws -> Certificate.PublicKey? {
        switch algorithm {
        case .ecP256, .ecP384:
            guard var point = try session.attribute(CK_ATTRIBUTE_TYPE(CKA_EC_POINT), of: object) else { return nil }
            // By length, not by the first bytes: a bare point also starts with 0x04.
            let bare = algorithm == .ecP256 ? 65 : 97
            if point.count != bare, let octets = try? ASN1OctetString(derEncoded: point[...]) { point = Array(octets.bytes) }
            return algorithm == .ecP256
                ? Certificate.PublicKey(try P256.Signing.PublicKey(x963Representation: point))
                : Certificate.PublicKey(try P384.Signing.PublicKey(x963Representation: point))
        case .rsa2048, .rsa3072, .rsa4096:
            guard let modulus = try session.attribute(CK_ATTRIBUTE_TYPE(CKA_MODULUS), of: object),
                  let exponent = try session.attribute(CK_ATTRIBUTE_TYPE(CKA_PUBLIC_EXPONENT), of: object) else { return nil }
            return try Certificate.PublicKey(derEncoded: rsaSubjectPublicKeyInfo(modulus: modulus, exponent: exponent))
        case .ed25519:
            return nil
        }
    }

    /// SubjectPublicKeyInfo { rsaEncryption NULL, BIT STRING { RSAPublicKey { n, e } } }.
    static func rsaSubjectPublicKeyInfo(modulus: [UInt8], exponent: [UInt8]) -> [UInt8] {
        func integer(_ bytes: [UInt8]) -> [UInt8] {
            var value = Array(bytes.drop(while: { $0 == 0 }))
            if value.isEmpty || value[0] & 0x80 != 0 { value.insert(0, at: 0) }
            return value
        }
        var key = DERWriter()
        key.element(0x30) { sequence in
            for part in [integer(modulus), integer(exponent)] {
                sequence.header(0x02, count: part.count)
                sequence.append(part)
            }
        }
        var info = DERWriter()
        info.element(0x30) { outer in
            outer.append([0x30, 0x0D, 0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01, 0x05, 0x00])
            outer.header(0x03, count: key.bytes.count + 1)
            outer.append([0x00])
            outer.append(key.bytes)
        }
        return info.bytes
    }
}
