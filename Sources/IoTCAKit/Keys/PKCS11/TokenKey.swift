import CPKCS11
import Crypto
import Foundation
import Synchronization
import SwiftASN1
import X509

/// A CA private key inside a PKCS#11 token: swift-certificates signs with it like any key,
/// and every signature is a `C_Sign` in the token. ECDSA is signed over the digest iotca
/// computes (CKM_ECDSA: every token has it, not every one has CKM_ECDSA_SHA256), and the raw
/// r‖s the token returns is written as the DER ECDSA-Sig-Value certificates carry; RSA is
/// CKM_SHA256_RSA_PKCS (PKCS#1 v1.5).
struct TokenKey: CustomPrivateKey {
    let session: PKCS11Session
    /// The private key's object handle, found again after the token lost the session.
    private let object: ObjectHandle
    /// What names the object in the token (label, id), to find it again.
    private let label: String?
    private let id: [UInt8]?
    var handle: CK_OBJECT_HANDLE { object.value.withLock { $0 } }
    let algorithm: KeyAlgorithm
    let publicKey: Certificate.PublicKey
    /// Where it is, for messages.
    let location: String

    static let p256Parameters: [UInt8] = [0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07]
    static let p384Parameters: [UInt8] = [0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x22]

    var defaultSignatureAlgorithm: Certificate.SignatureAlgorithm { algorithm.signatureAlgorithm }
    var supportedSignatureAlgorithms: [Certificate.SignatureAlgorithm] { [algorithm.signatureAlgorithm] }

    func signSynchronously(bytes: some DataProtocol, signatureAlgorithm: Certificate.SignatureAlgorithm) throws -> Certificate.Signature {
        let raw = try sign(Array(bytes))
        return try Certificate.Signature(signatureAlgorithm: signatureAlgorithm, signatureBytes: ASN1BitString(bytes: raw[...]))
    }

    /// The signature value as it goes into a certificate's or CRL's BIT STRING. When the token
    /// lost the process's session or login (removed and put back, sessions closed under us),
    /// the session is opened and logged in again, the key found again, and the signature
    /// tried once more: a token that stays away fails this signature (kind unavailable, 503).
    func sign(_ message: [UInt8]) throws(PKCS11Error) -> [UInt8] {
        do {
            return try signOnce(message)
        } catch .call(_, let code) where PKCS11Session.lostSession(code) {
            try session.reconnect()
            let found = try session.find(CK_OBJECT_CLASS(CKO_PRIVATE_KEY), label: label, id: id)
            guard found.count == 1, let handle = found.first else { throw .objectNotFound(location) }
            object.value.withLock { $0 = handle }
            let signature = try signOnce(message)
            // The object found again must be the key opened before: its signature verifies.
            guard publicKey.isValidSignature(signature, for: message, signatureAlgorithm: algorithm.signatureAlgorithm) else {
                throw .keyMismatch(authority: label ?? "?", location: location)
            }
            return signature
        }
    }

    private func signOnce(_ message: [UInt8]) throws(PKCS11Error) -> [UInt8] {
        let handle = self.handle
        switch algorithm {
        case .ecP256:
            return try Self.derECDSA(session.sign(Array(SHA256.hash(data: message)), with: handle, mechanism: CK_MECHANISM_TYPE(CKM_ECDSA)))
        case .ecP384:
            return try Self.derECDSA(session.sign(Array(SHA384.hash(data: message)), with: handle, mechanism: CK_MECHANISM_TYPE(CKM_ECDSA)))
        case .rsa2048, .rsa3072, .rsa4096:
            return try session.sign(message, with: handle, mechanism: CK_MECHANISM_TYPE(CKM_SHA256_RSA_PKCS))
        case .ed25519:
            throw .unsupportedKey("ed25519")
        }
    }

    /// r‖s (each half of the output) as SEQUENCE { INTEGER r, INTEGER s }.
    static func derECDSA(_ raw: [UInt8]) throws(PKCS11Error) -> [UInt8] {
        guard !raw.isEmpty, raw.count % 2 == 0 else { throw .unsupportedKey("the token returned an ECDSA signature of \(raw.count) bytes") }
        func integer(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
            var value = Array(bytes.drop(while: { $0 == 0 }))
            if value.isEmpty { value = [0] }
            if value[0] & 0x80 != 0 { value.insert(0, at: 0) }
            return value
        }
        var writer = DERWriter()
        writer.element(0x30) { sequence in
            for half in [raw[..<(raw.count / 2)], raw[(raw.count / 2)...]] {
                let value = integer(half)
                sequence.header(0x02, count: value.count)
                sequence.append(value)
            }
        }
        return writer.bytes
    }

    // Hashable: the same key opened once (its handle may be found again since).
    static func == (lhs: TokenKey, rhs: TokenKey) -> Bool { lhs.session === rhs.session && lhs.object === rhs.object }
    func hash(into hasher: inout Hasher) {
        hasher.combine(ObjectIdentifier(session))
        hasher.combine(ObjectIdentifier(object))
    }

    /// A handle shared by the copies of one key.
    final class ObjectHandle: Sendable {
        let value: Mutex<CK_OBJECT_HANDLE>
        init(_ handle: CK_OBJECT_HANDLE) { value = Mutex(handle) }
    }

    // A token key is never written out: there is nothing to serialize.
    static var defaultPEMDiscriminator: String { "PRIVATE KEY" }
    init(pemDocument: PEMDocument) throws { throw PKCS11Error.unsupportedKey("a token key cannot be read from PEM") }
    init(derEncoded: ArraySlice<UInt8>) throws { throw PKCS11Error.unsupportedKey("a token key cannot be read from DER") }
    func serialize(into coder: inout DER.Serializer) throws { throw PKCS11Error.unsupportedKey("a token key never leaves the token") }

    init(session: PKCS11Session, handle: CK_OBJECT_HANDLE, label: String?, id: [UInt8]?, algorithm: KeyAlgorithm,
         publicKey: Certificate.PublicKey, location: String) {
        self.session = session
        object = ObjectHandle(handle)
        self.label = label
        self.id = id
        self.algorithm = algorithm
        self.publicKey = publicKey
        self.location = location
    }
}
