import COpenSSL

/// Opens the key files iotca writes (PKCS#8 with PBES2: PBKDF2-HMAC-SHA256, AES-256-CBC)
/// with a PBKDF2 that resumes precomputed HMAC states (`iotca_pbkdf2_hmac_sha256`): OpenSSL 3's
/// own costs twice as much per iteration, and at 600,000 iterations that was a tenth of a
/// 10,000-device batch and of a million-entry CRL's publication, spent before any work could
/// start. Any other scheme, PRF or cipher is left to OpenSSL (`notHandled`).
enum PBES2Key {
    enum Opened {
        /// The PKCS#8 PrivateKeyInfo, parsed by OpenSSL into an EVP_PKEY the caller frees.
        case key(OpaquePointer)
        case wrongPassphrase
        case notHandled
    }

    struct Parameters {
        let salt: [UInt8]
        let iterations: Int
        let iv: [UInt8]
        let encrypted: [UInt8]
    }

    /// More would be a file made to stall whoever opens it; OpenSSL's own path takes those.
    static let maximumIterations = 10_000_000

    static func open(der: [UInt8], passphrase: SecretBytes) -> Opened {
        guard let parameters = parameters(der) else { return .notHandled }
        var derived = [UInt8](repeating: 0, count: 32)
        defer { SecretBytes.zero(derived) }
        let ok = passphrase.bytes.withUnsafeBufferPointer { pass in
            parameters.salt.withUnsafeBufferPointer { salt in
                iotca_pbkdf2_hmac_sha256(pass.baseAddress, pass.count, salt.baseAddress, salt.count,
                                         UInt(parameters.iterations), &derived, derived.count)
            }
        }
        guard ok == 1, let context = EVP_CIPHER_CTX_new() else { return .notHandled }
        defer { EVP_CIPHER_CTX_free(context) }
        var plain = [UInt8](repeating: 0, count: parameters.encrypted.count + 16)
        defer { SecretBytes.zero(plain) }
        var updated: Int32 = 0, finished: Int32 = 0
        guard EVP_DecryptInit_ex(context, EVP_aes_256_cbc(), nil, derived, parameters.iv) == 1,
              EVP_DecryptUpdate(context, &plain, &updated, parameters.encrypted, Int32(parameters.encrypted.count)) == 1 else {
            return .notHandled
        }
        // A wrong key shows as bad padding, or (one time in about 256) as bytes that are no key.
        let padded = plain.withUnsafeMutableBufferPointer { buffer in
            EVP_DecryptFinal_ex(context, buffer.baseAddress.map { $0 + Int(updated) }, &finished)
        }
        guard padded == 1 else {
            ERR_clear_error()
            return .wrongPassphrase
        }
        let info = Array(plain.prefix(Int(updated + finished)))
        defer { SecretBytes.zero(info) }
        guard let key = OpenSSL.privateKey(pkcs8DER: info) else {
            ERR_clear_error()
            return .wrongPassphrase
        }
        return .key(key)
    }

    /// EncryptedPrivateKeyInfo { { PBES2, { { PBKDF2, { salt, count, prf } },
    /// { aes256-CBC, iv } } }, encryptedData }, read strictly; nil for anything else.
    static func parameters(_ der: [UInt8]) -> Parameters? {
        let reader = DERReader(bytes: der)
        func child(_ parent: DERReader.Element?, _ tag: UInt8) -> DERReader.Element? {
            guard let parent, let first = reader.firstChild(of: parent), first.tag == tag else { return nil }
            return first
        }
        func sibling(_ element: DERReader.Element?, in parent: DERReader.Element?, _ tag: UInt8) -> DERReader.Element? {
            guard let element, let parent, let next = reader.next(after: element, in: parent), next.tag == tag else { return nil }
            return next
        }
        func contents(_ element: DERReader.Element) -> [UInt8] { Array(der[element.contents..<element.end]) }
        func isLast(_ element: DERReader.Element, in parent: DERReader.Element) -> Bool { element.end == parent.end }

        guard let info = reader.element(at: 0, limit: der.count), info.tag == 0x30, info.end == der.count,
              let algorithm = child(info, 0x30), let scheme = child(algorithm, 0x06), reader.slice(scheme).elementsEqual(Self.pbes2),
              let schemeParameters = sibling(scheme, in: algorithm, 0x30), isLast(schemeParameters, in: algorithm),
              let kdf = child(schemeParameters, 0x30), let kdfOID = child(kdf, 0x06), reader.slice(kdfOID).elementsEqual(Self.pbkdf2),
              let kdfParameters = sibling(kdfOID, in: kdf, 0x30), isLast(kdfParameters, in: kdf),
              let salt = child(kdfParameters, 0x04), let count = sibling(salt, in: kdfParameters, 0x02),
              let cipher = sibling(kdf, in: schemeParameters, 0x30), isLast(cipher, in: schemeParameters),
              let cipherOID = child(cipher, 0x06), reader.slice(cipherOID).elementsEqual(Self.aes256CBC),
              let iv = sibling(cipherOID, in: cipher, 0x04), isLast(iv, in: cipher), iv.end - iv.contents == 16,
              let encrypted = sibling(algorithm, in: info, 0x04), isLast(encrypted, in: info),
              (encrypted.end - encrypted.contents) % 16 == 0, encrypted.end > encrypted.contents,
              let iterations = Self.positive(contents(count)), iterations <= maximumIterations else { return nil }
        // Then the PRF, which must be hmacWithSHA256 (absent means SHA-1); a keyLength before it
        // (OpenSSL never writes one for AES) is left to OpenSSL.
        guard let prf = reader.next(after: count, in: kdfParameters), prf.tag == 0x30, isLast(prf, in: kdfParameters),
              let prfOID = child(prf, 0x06), reader.slice(prfOID).elementsEqual(Self.hmacWithSHA256) else { return nil }
        // Nothing after the PRF's OID, or exactly a NULL (`next` is also nil for bytes that are not DER).
        if prfOID.end != prf.end {
            guard let null = reader.next(after: prfOID, in: prf), reader.slice(null).elementsEqual([0x05, 0x00]),
                  isLast(null, in: prf) else { return nil }
        }
        return Parameters(salt: contents(salt), iterations: iterations, iv: contents(iv), encrypted: contents(encrypted))
    }

    /// A minimal DER INTEGER's positive value that fits four bytes.
    private static func positive(_ bytes: [UInt8]) -> Int? {
        guard let first = bytes.first, bytes.count <= 5, first & 0x80 == 0 else { return nil }
        if bytes.count > 1 && first == 0 && bytes[1] & 0x80 == 0 { return nil }
        let value = bytes.reduce(0) { $0 << 8 | Int($1) }
        return value > 0 && value <= Int(UInt32.max) ? value : nil
    }

    static let pbes2: [UInt8] = [0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x05, 0x0D]
    static let pbkdf2: [UInt8] = [0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x05, 0x0C]
    static let hmacWithSHA256: [UInt8] = [0x06, 0x08, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x02, 0x09]
    static let aes256CBC: [UInt8] = [0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x01, 0x2A]
}
