import COpenSSL
import Foundation

/// PKCS#12 files made with OpenSSL (no Swift library writes them): the device key and
/// certificate with the chain and root, keys and certificates encrypted with AES-256-CBC under
/// PBKDF2 (PBES2), and an HMAC-SHA-256 integrity MAC, as `openssl pkcs12 -export` makes in
/// OpenSSL 3. Readable by `openssl pkcs12 -info` and by Windows, Java and mbedTLS.
enum PKCS12Bundle {
    static let iterations: Int32 = 10_000

    static func make(key: PrivateKeyMaterial, certificate: [UInt8], chain: [[UInt8]], friendlyName: String,
                     passphrase: Passphrase) throws(OutputError) -> [UInt8] {
        func fail(_ step: String) -> OutputError { .writeFailed(path: "PKCS#12 bundle", detail: "\(step): \(OpenSSL.lastError())") }
        guard let pkey = OpenSSL.privateKey(pkcs8DER: key.pkcs8DER) else { throw fail("reading the key") }
        defer { EVP_PKEY_free(pkey) }
        guard let leaf = x509(certificate) else { throw fail("reading the certificate") }
        defer { X509_free(leaf) }
        guard let stack = OPENSSL_sk_new_null() else { throw fail("allocating the chain") }
        var others: [OpaquePointer] = []
        defer {
            others.forEach { X509_free($0) }
            OPENSSL_sk_free(stack)
        }
        for der in chain {
            guard let certificate = x509(der) else { throw fail("reading a chain certificate") }
            others.append(certificate)
            OPENSSL_sk_push(stack, UnsafeRawPointer(certificate))
        }
        guard !passphrase.containsNUL else {
            throw .writeFailed(path: friendlyName, detail: "the bundle passphrase contains a NUL byte, which OpenSSL would cut it at")
        }
        let encoded: [UInt8]? = passphrase.secret.withCString { pass, _ -> [UInt8]? in
            // mac_iter -1: no MAC here; PKCS12_set_mac adds one with SHA-256 below.
            guard let p12 = PKCS12_create(pass, friendlyName, pkey, leaf, stack,
                                          NID_aes_256_cbc, NID_aes_256_cbc, iterations, -1, 0) else { return nil }
            defer { PKCS12_free(p12) }
            guard PKCS12_set_mac(p12, pass, -1, nil, 0, iterations, EVP_sha256()) == 1 else { return nil }
            return OpenSSL.encode { i2d_PKCS12(p12, $0) }
        }
        guard let encoded else { throw fail("encoding") }
        return encoded
    }

    private static func x509(_ der: [UInt8]) -> OpaquePointer? {
        der.withUnsafeBufferPointer { buffer in
            var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
            return d2i_X509(nil, &cursor, buffer.count)
        }
    }
}
