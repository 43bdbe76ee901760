import COpenSSL

/// Generates private keys with OpenSSL, which is about 8x faster for P-256 than
/// swift-crypto's generator (that one runs a FIPS pairwise check per key; ARCHITECTURE.md).
/// Holds one OpenSSL context per algorithm for reuse: not thread-safe, so each worker
/// thread of a batch owns its own generator.
public final class KeyGenerator {
    private var contexts: [KeyAlgorithm: OpaquePointer] = [:]

    public init() {}

    deinit {
        for context in contexts.values { EVP_PKEY_CTX_free(context) }
    }

    public func generate(_ algorithm: KeyAlgorithm) throws(KeyError) -> PrivateKeyMaterial {
        let context = try self.context(for: algorithm)
        var key: OpaquePointer?
        guard EVP_PKEY_generate(context, &key) == 1, let key else {
            throw .generationFailed(algorithm, detail: OpenSSL.lastError())
        }
        defer { EVP_PKEY_free(key) }
        return try PrivateKeyMaterial(evpKey: key, algorithm: algorithm)
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
