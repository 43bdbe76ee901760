/// How a bundle is handed out (`iotca issue --format`).
public enum BundleFormat: String, CaseIterable, Sendable {
    /// The folder OUT/THING/ with cert.pem, key.pem, chain.pem, root.pem, manifest.json.
    case dir
    /// OUT/THING.pem: key, certificate and chain in one file.
    case pem
    /// OUT/THING.p12: PKCS#12 with key, certificate, chain and root, passphrase-protected.
    case p12
    /// OUT/THING.zip: the dir bundle's files.
    case zip
    /// One JSON object on stdout; nothing on disk.
    case json
}
