/// How a bundle is handed out (`iotca issue --format`).
public enum BundleFormat: String, CaseIterable, Sendable {
    /// The one check that a PKCS#12 bundle has a passphrase to be encrypted with, made before
    /// any key is generated or anything recorded.
    public func requirePassphrase(_ passphrase: Passphrase?) throws(PolicyError) {
        guard self == .p12, passphrase?.isEmpty ?? true else { return }
        throw .bundlePassphraseMissing
    }

    /// The folder OUT/THING/ with cert.pem, key.pem, chain.pem, root.pem, manifest.json.
    case dir
    /// OUT/THING.pem: key, certificate and chain in one file.
    case pem
    /// OUT/THING.p12: PKCS#12 with key, certificate, chain and root, passphrase-protected.
    case p12
    /// OUT/THING.zip: the dir bundle's files.
    case zip
    /// The folder OUT/THING/ a Matter factory tool takes: dac_cert.der, dac_key.der (SEC1),
    /// pai_cert.der, paa_cert.der, manifest.json, and cd.der when a Certification Declaration is given.
    case matter
    /// One JSON object on stdout; nothing on disk.
    case json
    /// `batch` only: one JSON object per bundle (the json form), one line each, in one file.
    case jsonl

    /// Formats written as a folder of files per thing.
    public var isFolder: Bool { self == .dir || self == .matter }
}
