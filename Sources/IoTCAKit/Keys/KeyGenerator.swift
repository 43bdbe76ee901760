import COpenSSL

/// Generates private keys with OpenSSL, which is about 8x faster for P-256 than
/// swift-crypto's generator (that one runs a FIPS pairwise check per key; docs/ARCHITECTURE.md).
/// Holds one OpenSSL context per algorithm for reuse: not thread-safe, so each worker
/// thread of a batch owns its own generator.
public final class KeyGenerator {
    private var contexts: [KeyAlgorithm: OpaquePointer] = [:]
    /// EC keys reused from key to key (the EC_KEY fast path in the COpenSSL shim).
    private var ecKeys: [KeyAlgorithm: OpaquePointer] = [:]

    public init() {}

    deinit {
        for context in contexts.values { EVP_PKEY_CTX_free(context) }
        for key in ecKeys.values { iotca_ec_key_free(key) }
    }

    public func generate(_ algorithm: KeyAlgorithm) throws(KeyError) -> PrivateKeyMaterial {
        if algorithm.isEC, let material = try fastECKey(algorithm) { return material }
        let context = try self.context(for: algorithm)
        var key: OpaquePointer?
        guard EVP_PKEY_generate(context, &key) == 1, let key else {
            throw .generationFailed(algorithm, detail: OpenSSL.lastError())
        }
        defer { EVP_PKEY_free(key) }
        if algorithm.isEC, let material = try ecKey(key, algorithm: algorithm) { return material }
        return try PrivateKeyMaterial(evpKey: key, algorithm: algorithm)
    }

    /// Half the cost of EVP_PKEY_generate and the parameter export below; nil when OpenSSL
    /// refuses (the EVP path then reports why). The reused EC_KEY holds the last scalar until
    /// the next key replaces it; EC_KEY_free clears it when the generator goes.
    private func fastECKey(_ algorithm: KeyAlgorithm) throws(KeyError) -> PrivateKeyMaterial? {
        let size = algorithm == .ecP256 ? 32 : 48
        let key: OpaquePointer
        if let existing = ecKeys[algorithm] {
            key = existing
        } else {
            guard let made = iotca_ec_key_new(algorithm == .ecP256 ? NID_X9_62_prime256v1 : NID_secp384r1) else { return nil }
            ecKeys[algorithm] = made
            key = made
        }
        var scalar = [UInt8](repeating: 0, count: size)
        var point = [UInt8](repeating: 0, count: 2 * size + 1)
        defer { for index in scalar.indices { scalar[index] = 0 } }
        guard iotca_ec_key_generate(key, &scalar, Int32(size), &point, point.count) == 1 else { return nil }
        return try PrivateKeyMaterial(ecScalar: scalar, point: point, algorithm: algorithm)
    }

    /// Should the EC_KEY path fail, EC keys still skip OpenSSL's generic encoders: the scalar
    /// and point read as parameters, and the PKCS#8 and SPKI DER written here. OpenSSL 3's
    /// generic encoders look providers up by name under locks, which cost more than generating
    /// the key (measured: see the README, Speed).
    private func ecKey(_ key: OpaquePointer, algorithm: KeyAlgorithm) throws(KeyError) -> PrivateKeyMaterial? {
        let size = algorithm == .ecP256 ? 32 : 48
        var scalar = [UInt8](repeating: 0, count: size)
        var point = [UInt8](repeating: 0, count: 2 * size + 1)
        var bignum: OpaquePointer?
        guard EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_PRIV_KEY, &bignum) == 1, let bignum else { return nil }
        defer { BN_clear_free(bignum) }
        guard BN_bn2binpad(bignum, &scalar, Int32(size)) == Int32(size) else { return nil }
        var pointLength = 0
        guard EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, &point, point.count, &pointLength) == 1,
              pointLength == point.count, point[0] == 0x04 else { return nil }
        defer { for index in scalar.indices { scalar[index] = 0 } }
        return try PrivateKeyMaterial(ecScalar: scalar, point: point, algorithm: algorithm)
    }

    private func context(for algorithm: KeyAlgorithm) throws(KeyError) -> OpaquePointer {
        if let existing = contexts[algorithm] { return existing }
        let typeName: String
        switch algorithm {
        case .ecP256, .ecP384: typeName = "EC"
        case .ed25519: typeName = "ED25519"
        case .rsa2048, .rsa3072, .rsa4096: typeName = "RSA"
        }
        guard let context = EVP_PKEY_CTX_new_from_name(nil, typeName, nil) else {
            throw .generationFailed(algorithm, detail: OpenSSL.lastError())
        }
        var ok = EVP_PKEY_keygen_init(context) == 1
        switch algorithm {
        case .ecP256: ok = ok && EVP_PKEY_CTX_set_group_name(context, "P-256") == 1
        case .ecP384: ok = ok && EVP_PKEY_CTX_set_group_name(context, "P-384") == 1
        case .rsa2048, .rsa3072, .rsa4096:
            ok = ok && EVP_PKEY_CTX_set_rsa_keygen_bits(context, algorithm.rsaBits ?? 2048) == 1
        case .ed25519: break
        }
        guard ok else {
            EVP_PKEY_CTX_free(context)
            throw .generationFailed(algorithm, detail: OpenSSL.lastError())
        }
        contexts[algorithm] = context
        return context
    }
}
