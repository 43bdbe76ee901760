import COpenSSL

/// Small helpers around the system OpenSSL, used only where no Swift library does the job:
/// fast key generation and passphrase-encrypted PKCS#8 (docs/ARCHITECTURE.md, Keys/).
enum OpenSSL {
    /// The reason for the most recent OpenSSL failure, with the queue cleared so a later call
    /// does not report a stale one.
    static func lastError() -> String {
        let code = ERR_get_error()
        ERR_clear_error()
        guard code != 0 else { return "unknown OpenSSL error" }
        var buffer = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buffer, buffer.count)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Runs an i2d-style encoder twice, first for the length and then into a buffer we own, so
    /// no OpenSSL-allocated memory crosses into Swift.
    static func encode(_ encoder: (UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>?) -> Int32) -> [UInt8]? {
        let length = encoder(nil)
        guard length > 0 else { return nil }
        var bytes = [UInt8](repeating: 0, count: Int(length))
        let written = bytes.withUnsafeMutableBufferPointer { buffer -> Int32 in
            var cursor: UnsafeMutablePointer<UInt8>? = buffer.baseAddress
            return encoder(&cursor)
        }
        guard written == length else { return nil }
        return bytes
    }

    /// Everything written into a memory BIO, as text.
    static func drain(_ bio: OpaquePointer) -> String {
        let pending = Int(BIO_ctrl_pending(bio))
        var bytes = [UInt8](repeating: 0, count: pending)
        let read = bytes.withUnsafeMutableBytes { BIO_read(bio, $0.baseAddress, Int32(pending)) }
        return String(decoding: bytes.prefix(max(0, Int(read))), as: UTF8.self)
    }

    /// A PKCS#8 DER private key parsed into an EVP_PKEY the caller must free.
    static func privateKey(pkcs8DER: [UInt8]) -> OpaquePointer? {
        pkcs8DER.withUnsafeBufferPointer { buffer -> OpaquePointer? in
            var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
            guard let info = d2i_PKCS8_PRIV_KEY_INFO(nil, &cursor, buffer.count) else { return nil }
            defer { PKCS8_PRIV_KEY_INFO_free(info) }
            return EVP_PKCS82PKEY(info)
        }
    }

    static func pkcs8DER(of key: OpaquePointer) -> [UInt8]? {
        guard let info = EVP_PKEY2PKCS8(key) else { return nil }
        defer { PKCS8_PRIV_KEY_INFO_free(info) }
        return encode { i2d_PKCS8_PRIV_KEY_INFO(info, $0) }
    }

    static func subjectPublicKeyInfoDER(of key: OpaquePointer) -> [UInt8]? {
        encode { i2d_PUBKEY(key, $0) }
    }
}

/// Hands OpenSSL the passphrase through `userdata` instead of letting it fall back to its
/// default callback, which would prompt on the terminal (and hang a factory script).
let passphraseCallback: @convention(c) (
    UnsafeMutablePointer<CChar>?, Int32, Int32, UnsafeMutableRawPointer?
) -> Int32 = { buffer, size, _, userdata in
    guard let buffer, let userdata else { return -1 }
    let passphrase = userdata.assumingMemoryBound(to: CChar.self)
    let length = min(Int(strlen(passphrase)), Int(size))
    buffer.update(from: passphrase, count: length)
    return Int32(length)
}
