import Foundation

extension Bundle {
    static let matterCertificateFile = "dac_cert.der"

    /// The matter format's files, named as the SDK's and Espressif's factory tools take them
    /// (`--dac-cert`, `--dac-key`, `--pai-cert`, `--cd`): DER throughout, the key as SEC1.
    var matterFiles: [(name: String, contents: [UInt8], mode: mode_t)] {
        var files: [(String, [UInt8], mode_t)] = [(Self.matterCertificateFile, certificateDER, 0o644)]
        if let key = privateKey?.sec1DER { files.append(("dac_key.der", key, 0o600)) }
        if let pai = chain.intermediates.first { files.append(("pai_cert.der", pai, 0o644)) }
        files.append(("paa_cert.der", chain.root, 0o644))
        if let certificationDeclaration { files.append(("cd.der", certificationDeclaration, 0o644)) }
        var manifest = manifest
        manifest.files = matterFileNames
        files.append(("manifest.json", manifest.prettyJSON, 0o644))
        return files
    }

    /// The names `matterFiles` writes, in order.
    public var matterFileNames: [String] {
        [Self.matterCertificateFile] + (privateKey == nil ? [] : ["dac_key.der"]) + (chain.intermediates.isEmpty ? [] : ["pai_cert.der"])
            + ["paa_cert.der"] + (certificationDeclaration == nil ? [] : ["cd.der"]) + ["manifest.json"]
    }
}

/// A Certification Declaration as a factory line receives it from the CSA (or makes a test one
/// with the SDK's `chip-cert gen-cd`): a CMS ContentInfo holding SignedData, in DER.
public enum CertificationDeclaration {
    /// The SDK's largest signed CD (`kMaxCMSSignedCDMessage`) is far below this.
    public static let maximumLength = 2_048

    /// A declaration (if any) for bundles in `format`: only the matter format carries one.
    public static func check(_ bytes: [UInt8]?, format: BundleFormat) throws(PolicyError) {
        guard let bytes else { return }
        guard format == .matter else { throw .invalidValue("Certification Declaration", reason: "only the matter format carries one") }
        try check(bytes)
    }

    /// - Throws: `PolicyError.invalidValue` when `bytes` is not DER of a CMS SignedData.
    public static func check(_ bytes: [UInt8]) throws(PolicyError) {
        // ContentInfo ::= SEQUENCE { contentType OID 1.2.840.113549.1.7.2 (signedData), [0] ... }
        let signedData: [UInt8] = [0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x02]
        let reader = DERReader(bytes: bytes)
        guard bytes.count <= maximumLength, let info = reader.element(at: 0, limit: bytes.count), info.tag == 0x30,
              info.end == bytes.count, let type = reader.firstChild(of: info),
              Array(bytes[type.start..<type.end]) == signedData,
              let content = reader.next(after: type, in: info), content.tag == 0xA0 else {
            throw .invalidValue("Certification Declaration", reason: "expected the DER of a CMS SignedData (cd.der, at most \(maximumLength) bytes), as chip-cert gen-cd writes it")
        }
    }
}
