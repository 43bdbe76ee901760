/// The forms firmware takes trust anchors in.
public enum TrustStoreFormat: Sendable, Equatable {
    /// Concatenated PEM, each certificate after a line naming it.
    case pem
    /// One C header: DER arrays and one NUL-terminated PEM string (mbedTLS, wolfSSL).
    case c
    /// ESP-IDF's `x509_crt_bundle` binary.
    case espCertificateBundle(ESPCertificateBundle.Layout)
    /// A folder of `NAME.der.inc` files for Zephyr's `tls_credential_add`.
    case zephyr

    public static let names = ["pem", "c", "esp-crt-bundle", "zephyr"]

    /// From `--format` and `--idf-version` (which only the ESP-IDF bundle reads).
    public init(name: String, idfVersion: String? = nil) throws(TrustStoreError) {
        switch name {
        case "pem": self = .pem
        case "c": self = .c
        case "esp-crt-bundle": self = .espCertificateBundle(try idfVersion.map { text throws(TrustStoreError) in try .init(idfVersion: text) } ?? .current)
        case "zephyr": self = .zephyr
        default: throw .unknownFormat(name)
        }
    }

    /// Whether `--out` names a folder (the others write one file).
    public var writesFolder: Bool { self == .zephyr }
}
