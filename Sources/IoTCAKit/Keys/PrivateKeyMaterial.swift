import COpenSSL
import Crypto
import SwiftASN1
import X509

/// A private key as unencrypted PKCS#8 DER, with its public key. Device keys live only in
/// memory until they are written into the bundle; CA keys are kept encrypted on disk.
public struct PrivateKeyMaterial: Sendable {
    public let algorithm: KeyAlgorithm
    public let publicKey: Certificate.PublicKey
    /// `publicKey` as SubjectPublicKeyInfo DER.
    public let subjectPublicKeyInfoDER: [UInt8]
    /// Zeroed when the last copy of the key goes.
    private let secret: SecretBytes
    /// A copy of its own, for the same reason as `Passphrase.bytes`.
    var pkcs8DER: [UInt8] { secret.bytes.map { $0 } }

    init(evpKey: OpaquePointer, algorithm: KeyAlgorithm) throws(KeyError) {
        guard let der = OpenSSL.pkcs8DER(of: evpKey) else {
            throw .encodingFailed(detail: OpenSSL.lastError())
        }
        guard let spki = OpenSSL.subjectPublicKeyInfoDER(of: evpKey) else {
            throw .encodingFailed(detail: OpenSSL.lastError())
        }
        do {
            self.publicKey = try Certificate.PublicKey(derEncoded: spki)
        } catch {
            throw .unsupportedKey(detail: "\(error)")
        }
        self.subjectPublicKeyInfoDER = spki
        self.algorithm = algorithm
        self.secret = SecretBytes(der)
    }

    /// An EC key from its private scalar and uncompressed public point (RFC 5915 inside
    /// RFC 5208 PKCS#8, and RFC 5480 SubjectPublicKeyInfo), as OpenSSL encodes them.
    init(ecScalar scalar: [UInt8], point: [UInt8], algorithm: KeyAlgorithm) throws(KeyError) {
        let curve: [UInt8] = algorithm == .ecP256
            ? [0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07]   // prime256v1
            : [0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x22]                     // secp384r1
        let ecPublicKey: [UInt8] = [0x06, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01]
        var writer = DERWriter()
        writer.element(0x30) { info in
            info.append([0x02, 0x01, 0x00])
            info.element(0x30) { $0.append(ecPublicKey); $0.append(curve) }
            info.element(0x04) { octets in
                octets.element(0x30) { ecKey in
                    ecKey.append([0x02, 0x01, 0x01])
                    ecKey.header(0x04, count: scalar.count)
                    ecKey.append(scalar)
                    ecKey.element(0xA1) { $0.header(0x03, count: point.count + 1); $0.append([0x00]); $0.append(point) }
                }
            }
        }
        var spki = DERWriter()
        spki.element(0x30) { info in
            info.element(0x30) { $0.append(ecPublicKey); $0.append(curve) }
            info.header(0x03, count: point.count + 1)
            info.append([0x00])
            info.append(point)
        }
        do {
            // From the point, not the SPKI just written: half the cost of parsing the DER.
            self.publicKey = algorithm == .ecP256
                ? Certificate.PublicKey(try P256.Signing.PublicKey(x963Representation: point))
                : Certificate.PublicKey(try P384.Signing.PublicKey(x963Representation: point))
        } catch {
            throw .unsupportedKey(detail: "\(error)")
        }
        self.subjectPublicKeyInfoDER = spki.bytes
        self.algorithm = algorithm
        self.secret = SecretBytes(writer.bytes)
    }

    /// `-----BEGIN PRIVATE KEY-----`, as `openssl pkey` writes it.
    public var pkcs8PEM: String {
        PEM.encode(pkcs8DER, type: "PRIVATE KEY")
    }

    /// PKCS#8 encrypted with PBES2: PBKDF2-HMAC-SHA256 at `protection`'s iteration count, a
    /// random salt and IV, AES-256-CBC; `openssl pkey -passin` opens it. Without a passphrase,
    /// plain PKCS#8.
    public func pem(encryptedWith passphrase: Passphrase?, protection: KeyProtection = .standard) throws(KeyError) -> String {
        guard let passphrase else { return pkcs8PEM }
        guard !passphrase.containsNUL else { throw .passphraseContainsNUL }
        let der = secret.bytes
        let info = der.withUnsafeBufferPointer { buffer -> OpaquePointer? in
            var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
            return d2i_PKCS8_PRIV_KEY_INFO(nil, &cursor, buffer.count)
        }
        guard let info else { throw .encodingFailed(detail: OpenSSL.lastError()) }
        defer { PKCS8_PRIV_KEY_INFO_free(info) }
        // pbe_nid -1 with a cipher: PBES2, whose PRF is hmacWithSHA256 in OpenSSL 3 (checked by
        // KeyFileProtection in the tests). A 16-byte salt (OpenSSL's default is 8; NIST SP
        // 800-132 asks for at least 128 bits).
        var salt = SecureRandom.bytes(16)
        let encrypted = passphrase.secret.withCString { chars, count in
            PKCS8_encrypt(-1, EVP_aes_256_cbc(), chars, count, &salt, Int32(salt.count), Int32(protection.iterations), info)
        }
        guard let encrypted else { throw .encodingFailed(detail: OpenSSL.lastError()) }
        defer { X509_SIG_free(encrypted) }
        guard let bio = BIO_new(BIO_s_mem()) else { throw .encodingFailed(detail: OpenSSL.lastError()) }
        defer { BIO_free(bio) }
        guard PEM_write_bio_PKCS8(bio, encrypted) == 1 else { throw .encodingFailed(detail: OpenSSL.lastError()) }
        return OpenSSL.drain(bio)
    }

    /// Reads a PEM private key (plain or encrypted PKCS#8, or the traditional forms OpenSSL
    /// reads). `path` only names the key in errors.
    public init(pem: String, passphrase: Passphrase?, path: String) throws(KeyError) {
        let encrypted = pem.contains("ENCRYPTED")
        if encrypted && (passphrase == nil || passphrase?.isEmpty == true) {
            throw .passphraseRequired(path: path)
        }
        if passphrase?.containsNUL == true { throw .passphraseContainsNUL }
        var key: OpaquePointer?
        if encrypted, let passphrase, let document = try? PEMDocument(pemString: pem.trimmingCharacters(in: .whitespacesAndNewlines)),
           document.discriminator == "ENCRYPTED PRIVATE KEY" {
            switch PBES2Key.open(der: document.derBytes, passphrase: passphrase.secret) {
            case .key(let opened): key = opened
            case .wrongPassphrase: throw .wrongPassphrase(path: path)
            case .notHandled: break
            }
        }
        if key == nil { key = try Self.evpKey(pem: pem, passphrase: passphrase) }
        guard let key else {
            let detail = OpenSSL.lastError()
            if encrypted { throw .wrongPassphrase(path: path) }
            throw .unreadableKeyFile(path: path, detail: detail)
        }
        defer { EVP_PKEY_free(key) }
        let der = OpenSSL.pkcs8DER(of: key)
        guard let der, let parsed = try? Self.algorithm(ofPKCS8: der) else {
            throw .unsupportedKey(detail: "\(path) is not an EC P-256/P-384, Ed25519 or RSA 2048-4096 key")
        }
        try self.init(evpKey: key, algorithm: parsed)
    }

    /// OpenSSL's reading, for every form `PBES2Key` leaves to it.
    private static func evpKey(pem: String, passphrase: Passphrase?) throws(KeyError) -> OpaquePointer? {
        guard let bio = BIO_new(BIO_s_mem()) else { throw .encodingFailed(detail: OpenSSL.lastError()) }
        defer { BIO_free(bio) }
        let pemBytes = Array(pem.utf8)
        _ = pemBytes.withUnsafeBytes { BIO_write(bio, $0.baseAddress, Int32($0.count)) }
        return (passphrase?.secret ?? SecretBytes([])).withCString { chars, _ in
            PEM_read_bio_PrivateKey(bio, nil, passphraseCallback, UnsafeMutableRawPointer(mutating: chars))
        }
    }

    private static func algorithm(ofPKCS8 der: [UInt8]) throws -> KeyAlgorithm? {
        let key = try Certificate.PrivateKey(derBytes: der)
        return KeyAlgorithm(publicKey: key.publicKey)
    }

    /// The key in swift-crypto form, for signing certificates, CSRs and CRLs.
    public func signingKey() throws(KeyError) -> Certificate.PrivateKey {
        do {
            return try Certificate.PrivateKey(derBytes: pkcs8DER)
        } catch {
            throw .unsupportedKey(detail: "\(error)")
        }
    }
}
