import Foundation

/// Bytes that must not outlive their use: a passphrase, a private key's PKCS#8. The buffer is
/// overwritten with zeros when the last reference goes, so a core dump or a reused page
/// taken later does not hold it. Copies handed to OpenSSL are made NUL-terminated by
/// `withCString` and zeroed as soon as the call returns.
final class SecretBytes: @unchecked Sendable {
    let bytes: [UInt8]

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    deinit { Self.zero(bytes) }

    /// The bytes followed by a NUL, for OpenSSL calls that take a C string; the copy is zeroed
    /// afterwards. Callers refuse secrets that contain NUL first (see `Passphrase`).
    func withCString<T>(_ body: (UnsafePointer<CChar>, Int32) throws -> T) rethrows -> T {
        var copy = bytes.map { CChar(bitPattern: $0) } + [0]
        defer { copy.withUnsafeMutableBytes { if let base = $0.baseAddress { explicit_bzero(base, $0.count) } } }
        return try copy.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { preconditionFailure("a NUL-terminated copy is never empty") }
            return try body(base, Int32(bytes.count))
        }
    }

    /// Overwrites an array's storage in place, shared or not (a copy-on-write check would copy
    /// the secret instead of clearing it).
    static func zero(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { buffer in
            if let base = buffer.baseAddress { explicit_bzero(UnsafeMutableRawPointer(mutating: base), buffer.count) }
        }
    }
}
