import Foundation

/// The one way CA key files are read and created: PEM under the store's `keys/` (a folder,
/// or the shared database's files), created 0600 from the first byte and durably, opened with
/// the passphrase when the key is encrypted.
enum KeyFile {
    /// Opens the key file `relative` (as the store records it, `keys/NAME.HEX.key.pem`).
    static func open(_ relative: String, in files: any StoreFiles, passphrase: Passphrase?) throws -> PrivateKeyMaterial {
        try read(relative, in: files).open(passphrase: passphrase)
    }

    /// The file's bytes, read from the store (a folder or the database) and not yet decrypted.
    struct Contents: Sendable {
        let bytes: [UInt8]
        let path: String

        func open(passphrase: Passphrase?) throws -> PrivateKeyMaterial {
            try PrivateKeyMaterial(pem: String(decoding: bytes, as: UTF8.self), passphrase: passphrase, path: path)
        }
    }

    static func read(_ relative: String, in files: any StoreFiles) throws -> Contents {
        let path = files.describe(relative)
        guard let bytes = try files.read(relative) else {
            throw KeyError.unreadableKeyFile(path: path, detail: "no such file")
        }
        return Contents(bytes: bytes, path: path)
    }

    /// Creates the key file `relative`, which must not exist yet.
    static func create(_ relative: String, in files: any StoreFiles, bytes: [UInt8]) throws {
        try files.createNew(relative, bytes, mode: 0o600)
    }
}
