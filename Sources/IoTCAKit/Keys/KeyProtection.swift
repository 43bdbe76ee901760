import Foundation
import SwiftASN1

/// How CA key files are encrypted: PKCS#8 with PBES2 (RFC 8018), PBKDF2-HMAC-SHA256 and
/// AES-256-CBC, which `openssl pkey -passin` opens. The iteration count is the cost a thief
/// pays per guess at the passphrase: OpenSSL's default of 2,048 lets a copied store be
/// guessed at millions of tries a second; 600,000 is OWASP's 2023 figure for PBKDF2-SHA256.
/// A key is unlocked once per process (a batch, the coming `serve`), so the cost is paid once.
public struct KeyProtection: Sendable, Equatable {
    public let iterations: Int

    public init(iterations: Int) { self.iterations = iterations }

    /// What every CA key file gets.
    public static let standard = KeyProtection(iterations: 600_000)

    /// For test fixtures only: fast, and named so nobody mistakes it for a setting. `doctor`
    /// reports every key file made with it as below the policy.
    public static let insecureFastForTests = KeyProtection(iterations: 2_048)

    /// The least a key file may have before `doctor` asks for `iotca passphrase change`.
    public static let minimumIterations = standard.iterations
}

/// What an encrypted key file says about its own protection (read from the PEM, no passphrase).
public struct KeyFileProtection: Sendable, Equatable {
    /// e.g. "PBKDF2-HMAC-SHA256", "PBKDF2-HMAC-SHA1", "scrypt", or the OID of another scheme.
    public var kdf: String
    public var iterations: Int?
    public var cipher: String

    public var meetsPolicy: Bool {
        kdf == "PBKDF2-HMAC-SHA256" && (iterations ?? 0) >= KeyProtection.minimumIterations
    }

    public var summary: String {
        "\(kdf)\(iterations.map { " with \($0) iterations" } ?? ""), \(cipher)"
    }

    /// Reads EncryptedPrivateKeyInfo { AlgorithmIdentifier { PBES2, { kdf, cipher } }, data }.
    /// nil when the PEM is not an encrypted PKCS#8 key.
    public static func read(pem: String) -> KeyFileProtection? {
        guard pem.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----"),
              let document = try? PEMDocument(pemString: pem.trimmingCharacters(in: .whitespacesAndNewlines)) else { return nil }
        let der = document.derBytes
        let reader = DERReader(bytes: der)
        func oid(_ element: DERReader.Element?) -> String? {
            guard let element, element.tag == 0x06 else { return nil }
            return (try? ASN1ObjectIdentifier(derEncoded: reader.slice(element)))?.description
        }
        guard let info = reader.element(at: 0, limit: der.count), let algorithm = reader.firstChild(of: info),
              let scheme = reader.firstChild(of: algorithm) else { return nil }
        guard oid(scheme) == "1.2.840.113549.1.5.13" else {
            return KeyFileProtection(kdf: "scheme \(oid(scheme) ?? "?") (not PBES2)", iterations: nil, cipher: "?")
        }
        guard let parameters = reader.next(after: scheme, in: algorithm), let kdf = reader.firstChild(of: parameters),
              let kdfOID = reader.firstChild(of: kdf) else { return nil }
        let cipherOID = reader.next(after: kdf, in: parameters).flatMap { oid(reader.firstChild(of: $0)) }
        let cipher = ["2.16.840.1.101.3.4.1.42": "AES-256-CBC", "2.16.840.1.101.3.4.1.2": "AES-128-CBC",
                      "1.2.840.113549.3.7": "DES-EDE3-CBC"][cipherOID ?? ""] ?? (cipherOID ?? "?")
        switch oid(kdfOID) {
        case "1.2.840.113549.1.5.12":  // PBKDF2-params { salt, iterationCount, keyLength?, prf? }
            guard let params = reader.next(after: kdfOID, in: kdf), let salt = reader.firstChild(of: params),
                  let count = reader.next(after: salt, in: params), count.tag == 0x02 else { return nil }
            let iterations = der[count.contents..<count.end].reduce(0) { $0 << 8 | Int($1) }
            var prf = "1.2.840.113549.2.7"  // hmacWithSHA1, the default when absent
            var cursor = reader.next(after: count, in: params)
            while let element = cursor {
                if element.tag == 0x30, let name = oid(reader.firstChild(of: element)) { prf = name }
                cursor = reader.next(after: element, in: params)
            }
            let prfName = ["1.2.840.113549.2.7": "SHA1", "1.2.840.113549.2.9": "SHA256", "1.2.840.113549.2.10": "SHA384",
                           "1.2.840.113549.2.11": "SHA512"][prf] ?? prf
            return KeyFileProtection(kdf: "PBKDF2-HMAC-\(prfName)", iterations: iterations, cipher: cipher)
        case "1.3.6.1.4.1.11591.4.11":
            return KeyFileProtection(kdf: "scrypt", iterations: nil, cipher: cipher)
        case let other:
            return KeyFileProtection(kdf: "KDF \(other ?? "?")", iterations: nil, cipher: cipher)
        }
    }
}
