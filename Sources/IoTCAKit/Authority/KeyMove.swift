import CPKCS11
import Crypto
import Foundation
import SwiftASN1
import X509

/// Where a key move can be stopped, for the crash tests (`kill -9` at each).
public enum KeyMoveStep: String, Sendable, CaseIterable {
    /// The key is in the token; the store still names the file.
    case imported
    /// The store names the token; the file is not deleted yet.
    case recorded
}

extension AuthorityManager {
    /// `ca move-key NAME --to pkcs11:...`: puts a CA's file key into a token (sensitive, never
    /// extractable), proves the token signs for the CA's certificate, records the token as the
    /// key's home, and only then deletes the file. Run again after a kill, it finds the key
    /// already in the token (same label, same public key) instead of importing a second copy;
    /// a file left behind by a kill after the record is reported by `doctor`. Moves wait for
    /// each other (and for a passphrase change) on the key-file lock: a second move at once
    /// finds the key already in the token, instead of importing another copy.
    /// - Throws: `AuthorityError` (not found), `KeyError` (passphrase), `PKCS11Error`.
    public func moveKey(of name: String, to token: PKCS11URI,
                        step: (KeyMoveStep) -> Void = { _ in }) throws -> (authority: Authority, location: PKCS11URI) {
        try KeyFileLock.withLock(store) { try moveKeyHoldingLock(of: name, to: token, step: step) }
    }

    private func moveKeyHoldingLock(of name: String, to token: PKCS11URI,
                                    step: (KeyMoveStep) -> Void) throws -> (authority: Authority, location: PKCS11URI) {
        let authority = try store.authority(named: name)
        guard !PKCS11URI.isURI(authority.keyFile) else {
            throw PKCS11Error.invalidURI(authority.keyFile, reason: "CA \(name)'s key is already in a token")
        }
        guard let expected = try authority.certifiedPublicKey() else { throw AuthorityError.pending(name) }
        let key = try KeyFile.open(authority.keyFile, in: store.files, passphrase: authority.keyEncrypted ? keyring.storePassphrase() : nil)
        let target = PKCS11URI(token: token.token, modulePath: token.modulePath)
        let session = try keyring.tokenSession(target)
        var location: PKCS11URI
        if let existing = try previouslyMoved(name, key: key, in: session, target: target) {
            location = existing
        } else {
            let id = SecureRandom.bytes(8)
            let (privateAttributes, publicAttributes) = try Self.tokenAttributes(of: key)
            _ = try session.importKeyPair(privateAttributes: privateAttributes, publicAttributes: publicAttributes, label: name, id: id)
            location = PKCS11URI(token: target.token, object: name, id: id, modulePath: target.modulePath)
        }
        step(.imported)
        let tokenKey = try keyring.openTokenKey(location, algorithm: authority.keyAlgorithm, authority: name, expected: expected)
        try Keyring.proveMatch(tokenKey, expected: expected, authority: name)
        let file = authority.keyFile
        try store.write { db in
            try db.execute("UPDATE authorities SET key_file = ?, key_encrypted = FALSE WHERE id = ?", location.description, authority.id)
            try store.appendEvent(db, action: "ca.key.moved", subject: name, details: ["from": file, "to": location.withoutModule])
        }
        step(.recorded)
        try store.files.remove([file])
        return (try store.authority(named: name), location)
    }

    /// The key a killed earlier move left in the token: labelled `name`, same public key.
    private func previouslyMoved(_ name: String, key: PrivateKeyMaterial, in session: PKCS11Session, target: PKCS11URI) throws -> PKCS11URI? {
        for handle in try session.find(CK_OBJECT_CLASS(CKO_PUBLIC_KEY), label: name, id: nil) {
            guard let publicKey = try Keyring.publicKey(of: handle, in: session, algorithm: key.algorithm), publicKey == key.publicKey,
                  let id = try session.attribute(CK_ATTRIBUTE_TYPE(CKA_ID), of: handle),
                  try !session.find(CK_OBJECT_CLASS(CKO_PRIVATE_KEY), label: name, id: id).isEmpty else { continue }
            return PKCS11URI(token: target.token, object: name, id: id, modulePath: target.modulePath)
        }
        return nil
    }

    /// The private and public key attributes C_CreateObject takes for `key`.
    static func tokenAttributes(of key: PrivateKeyMaterial) throws -> (AttributeList, AttributeList) {
        var privateAttributes = AttributeList(), publicAttributes = AttributeList()
        switch key.algorithm {
        case .ecP256, .ecP384:
            let (scalar, point, parameters): ([UInt8], [UInt8], [UInt8])
            if key.algorithm == .ecP256 {
                let parsed = try P256.Signing.PrivateKey(derRepresentation: key.pkcs8DER)
                (scalar, point, parameters) = (Array(parsed.rawRepresentation), Array(parsed.publicKey.x963Representation), TokenKey.p256Parameters)
            } else {
                let parsed = try P384.Signing.PrivateKey(derRepresentation: key.pkcs8DER)
                (scalar, point, parameters) = (Array(parsed.rawRepresentation), Array(parsed.publicKey.x963Representation), TokenKey.p384Parameters)
            }
            privateAttributes.add(CK_ATTRIBUTE_TYPE(CKA_KEY_TYPE), value: CK_KEY_TYPE(CKK_EC))
            privateAttributes.add(CK_ATTRIBUTE_TYPE(CKA_EC_PARAMS), bytes: parameters)
            privateAttributes.add(CK_ATTRIBUTE_TYPE(CKA_VALUE), bytes: scalar)
            publicAttributes.add(CK_ATTRIBUTE_TYPE(CKA_KEY_TYPE), value: CK_KEY_TYPE(CKK_EC))
            publicAttributes.add(CK_ATTRIBUTE_TYPE(CKA_EC_PARAMS), bytes: parameters)
            var octets = DERWriter()
            octets.header(0x04, count: point.count)
            octets.append(point)
            publicAttributes.add(CK_ATTRIBUTE_TYPE(CKA_EC_POINT), bytes: octets.bytes)
        case .rsa2048, .rsa3072, .rsa4096:
            let parts = try rsaParts(pkcs8: key.pkcs8DER)
            let names = [CKA_MODULUS, CKA_PUBLIC_EXPONENT, CKA_PRIVATE_EXPONENT, CKA_PRIME_1, CKA_PRIME_2, CKA_EXPONENT_1, CKA_EXPONENT_2, CKA_COEFFICIENT]
            privateAttributes.add(CK_ATTRIBUTE_TYPE(CKA_KEY_TYPE), value: CK_KEY_TYPE(CKK_RSA))
            for (type, value) in zip(names, parts) { privateAttributes.add(CK_ATTRIBUTE_TYPE(type), bytes: value) }
            publicAttributes.add(CK_ATTRIBUTE_TYPE(CKA_KEY_TYPE), value: CK_KEY_TYPE(CKK_RSA))
            publicAttributes.add(CK_ATTRIBUTE_TYPE(CKA_MODULUS), bytes: parts[0])
            publicAttributes.add(CK_ATTRIBUTE_TYPE(CKA_PUBLIC_EXPONENT), bytes: parts[1])
        case .ed25519:
            throw PKCS11Error.unsupportedKey("ed25519 CA keys stay in files")
        }
        return (privateAttributes, publicAttributes)
    }

    /// n, e, d, p, q, dp, dq, qinv of PKCS#8 { version, rsaEncryption, OCTET STRING { RSAPrivateKey } }.
    static func rsaParts(pkcs8: [UInt8]) throws -> [[UInt8]] {
        let outer = try DER.parse(pkcs8)
        guard case .constructed(let fields) = outer.content, let wrapped = Array(fields).dropFirst(2).first else {
            throw KeyError.unsupportedKey(detail: "not a PKCS#8 RSA key")
        }
        let inner = try DER.parse(try ASN1OctetString(derEncoded: wrapped).bytes)
        guard case .constructed(let values) = inner.content else { throw KeyError.unsupportedKey(detail: "not an RSAPrivateKey") }
        let integers = try Array(values).dropFirst().prefix(8).map { node -> [UInt8] in
            let value = Array(try ArraySlice<UInt8>(derEncoded: node))
            return Array(value.drop(while: { $0 == 0 }))
        }
        guard integers.count == 8 else { throw KeyError.unsupportedKey(detail: "an RSAPrivateKey without its CRT parts") }
        return integers
    }
}
