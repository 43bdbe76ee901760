import Foundation

/// The one way CA key files are read and created: PEM under the store's `keys/` folder,
/// created 0600 from the first byte and synced with its folder, opened with the passphrase
/// when the key is encrypted.
enum KeyFile {
    /// Opens the key file `relative` (as the store records it, `keys/NAME.HEX.key.pem`).
    static func open(_ relative: String, in layout: StoreLayout, passphrase: Passphrase?) throws -> PrivateKeyMaterial {
        let path = layout.url(relative).path
        let pem: String
        do {
            pem = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw KeyError.unreadableKeyFile(path: path, detail: (error as NSError).localizedDescription)
        }
        return try PrivateKeyMaterial(pem: pem, passphrase: passphrase, path: path)
    }

    /// Creates the key file `relative`, which must not exist yet.
    static func create(_ relative: String, in layout: StoreLayout, bytes: [UInt8]) throws {
        try AtomicFile.writeNew(bytes, to: layout.url(relative), mode: 0o600)
    }
}
