import Foundation
import COpenSSL
@testable import IoTCAKit
import SwiftASN1
import Testing
import TestSupport

/// The fast PBKDF2 path for key files is held to OpenSSL: the same derived bytes as
/// `openssl kdf`, the same key as OpenSSL's own reading, and on damaged files the same verdict.
@Suite struct PBES2KeyTests {
    private func derive(_ passphrase: [UInt8], salt: [UInt8], iterations: Int, length: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: length)
        _ = iotca_pbkdf2_hmac_sha256(passphrase, passphrase.count, salt, salt.count, UInt(iterations), &out, length)
        return out
    }

    @Test(arguments: [(0, 1), (1, 2), (20, 1_000), (64, 3), (65, 3), (200, 2)])
    func derivationEqualsOpenSSLs(passphraseLength: Int, iterations: Int) throws {
        let passphrase = (0..<passphraseLength).map { UInt8(0x41 + $0 % 26) }
        let salt = Array("a sixteen-byte salt".utf8)
        for length in [16, 32, 64, 80] {
            let ours = derive(passphrase, salt: salt, iterations: iterations, length: length)
            let openssl = try OpenSSLCLI.run(["kdf", "-keylen", String(length), "-kdfopt", "digest:SHA256",
                                              "-kdfopt", "hexpass:" + passphrase.hexString, "-kdfopt", "hexsalt:" + salt.hexString,
                                              "-kdfopt", "iter:\(iterations)", "PBKDF2"])
            #expect(openssl.succeeded, "\(openssl.stderr)")
            #expect(ours.colonHexString == openssl.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }

    @Test func iotcasOwnKeyFilesTakeTheFastPathAndOpenAsOpenSSLOpensThem() throws {
        let key = try KeyGenerator().generate(.ecP256)
        let pem = try key.pem(encryptedWith: Passphrase("s3cret pass"), protection: .insecureFastForTests)
        let der = try PEMDocument(pemString: pem).derBytes
        #expect(PBES2Key.parameters(der)?.iterations == KeyProtection.insecureFastForTests.iterations)
        guard case .key(let opened) = PBES2Key.open(der: der, passphrase: Passphrase("s3cret pass").secret) else {
            Issue.record("not opened by the fast path")
            return
        }
        defer { EVP_PKEY_free(opened) }
        #expect(OpenSSL.pkcs8DER(of: opened) == key.pkcs8DER)
        let read = try PrivateKeyMaterial(pem: pem, passphrase: Passphrase("s3cret pass"), path: "k.pem")
        #expect(read.pkcs8DER == key.pkcs8DER)
        guard case .wrongPassphrase = PBES2Key.open(der: der, passphrase: Passphrase("s3cret pasS").secret) else {
            Issue.record("a wrong passphrase was not refused")
            return
        }
        #expect(throws: KeyError.wrongPassphrase(path: "k.pem")) {
            try PrivateKeyMaterial(pem: pem, passphrase: Passphrase("wrong"), path: "k.pem")
        }
    }

    /// Forms iotca does not write (another cipher, another PRF, the legacy PBES1) are left to
    /// OpenSSL and still open.
    @Test(arguments: [["-v2", "aes-128-cbc", "-v2prf", "hmacWithSHA256"], ["-v2", "aes-256-cbc", "-v2prf", "hmacWithSHA1"],
                      ["-v2", "aes-256-cbc", "-v2prf", "hmacWithSHA512"], ["-v1", "PBE-SHA1-3DES"]])
    func otherFormsAreLeftToOpenSSL(options: [String]) throws {
        let folder = TemporaryFolder()
        let plain = folder.url.appendingPathComponent("plain.pem"), encrypted = folder.url.appendingPathComponent("encrypted.pem")
        let key = try KeyGenerator().generate(.ecP256)
        try key.pkcs8PEM.write(to: plain, atomically: true, encoding: .utf8)
        let result = try OpenSSLCLI.run(["pkcs8", "-topk8", "-in", plain.path, "-out", encrypted.path, "-passout", "pass:other form",
                                         "-iter", "1000"] + options)
        #expect(result.succeeded, "\(result.stderr)")
        let pem = try String(contentsOf: encrypted, encoding: .utf8)
        #expect(PBES2Key.parameters(try PEMDocument(pemString: pem.trimmingCharacters(in: .whitespacesAndNewlines)).derBytes) == nil)
        #expect(try PrivateKeyMaterial(pem: pem, passphrase: Passphrase("other form"), path: "k.pem").pkcs8DER == key.pkcs8DER)
        #expect(throws: KeyError.wrongPassphrase(path: "k.pem")) {
            try PrivateKeyMaterial(pem: pem, passphrase: Passphrase("wrong"), path: "k.pem")
        }
    }

    /// Every bit of an encrypted key flipped in turn: the fast path and OpenSSL's reading of
    /// the same bytes agree (the same key, or both refuse; what the fast path leaves is OpenSSL's
    /// anyway); nothing crashes.
    @Test func damagedFilesGetOpenSSLsVerdict() throws {
        let key = try KeyGenerator().generate(.ecP256)
        let pem = try key.pem(encryptedWith: Passphrase("s3cret"), protection: KeyProtection(iterations: 16))
        let der = try PEMDocument(pemString: pem).derBytes
        var disagreements: [Int] = []
        for index in der.indices {
            for bit in 0..<8 {
            var damaged = der
            damaged[index] ^= 0x01 << UInt8(bit)
            let damagedPEM = PEMDocument(type: "ENCRYPTED PRIVATE KEY", derBytes: damaged).pemString
            let theirs = Self.openSSLOnly(damagedPEM, passphrase: "s3cret")
            let ours: [UInt8]?
            switch PBES2Key.open(der: damaged, passphrase: Passphrase("s3cret").secret) {
            case .key(let opened):
                ours = OpenSSL.pkcs8DER(of: opened)
                EVP_PKEY_free(opened)
            case .wrongPassphrase: ours = nil
            case .notHandled: ours = theirs  // OpenSSL's reading is the one used
            }
            if ours != theirs { disagreements.append(index) }
            }
        }
        #expect(disagreements.isEmpty, "bytes where the two readings differ: \(disagreements)")
    }

    /// OpenSSL's own reading of a PEM key, as PKCS#8 DER.
    private static func openSSLOnly(_ pem: String, passphrase: String) -> [UInt8]? {
        guard let bio = BIO_new(BIO_s_mem()) else { return nil }
        defer { BIO_free(bio) }
        let bytes = Array(pem.utf8)
        _ = bytes.withUnsafeBytes { BIO_write(bio, $0.baseAddress, Int32($0.count)) }
        let key = passphrase.withCString { chars in
            PEM_read_bio_PrivateKey(bio, nil, passphraseCallback, UnsafeMutableRawPointer(mutating: chars))
        }
        ERR_clear_error()
        guard let key else { return nil }
        defer { EVP_PKEY_free(key) }
        return OpenSSL.pkcs8DER(of: key)
    }
}
