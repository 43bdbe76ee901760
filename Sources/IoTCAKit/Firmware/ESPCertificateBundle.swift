/// ESP-IDF's certificate bundle (`x509_crt_bundle`, loaded with `esp_crt_bundle_set` or built
/// in through `CONFIG_MBEDTLS_CUSTOM_CERTIFICATE_BUNDLE_PATH`): per anchor only its subject
/// Name and SubjectPublicKeyInfo, as DER, sorted by the subject's bytes because the device
/// binary-searches it with `memcmp` on the issuer of the first certificate it cannot verify.
///
/// Two layouts, read from espressif/esp-idf `components/mbedtls/esp_crt_bundle/`:
/// - up to v5.3 (`gen_crt_bundle.py` @129ea4620308a96205b7906b6dee74b536357a29,
///   `esp_crt_bundle.c` @5947ebe427d70ca7ca2ccef76b6c74921ac4fa08): a big-endian u16 count,
///   then per anchor big-endian u16 name length, u16 key length, name, key;
/// - from v5.4 (`gen_crt_bundle.py` @5572aaeeffa4c806cf9b339f49a7f6a2ad26a7ed,
///   `esp_crt_bundle.c` @0158ad3d990a2eaddea2b5fda4b96084d931f4c8): n little-endian u32
///   offsets from the bundle's start (the first is 4n, which gives n), then per anchor
///   little-endian u16 name length, u16 key length, name, key.
public enum ESPCertificateBundle {
    public enum Layout: String, Sendable, Equatable {
        /// ESP-IDF up to v5.3.
        case countPrefixed = "v5.3"
        /// ESP-IDF v5.4 and later.
        case offsetTable = "v5.4"

        public static let current = Layout.offsetTable

        /// "5.3", "v5.4.1", "6": the layout that version's `esp_crt_bundle.c` reads.
        public init(idfVersion text: String) throws(TrustStoreError) {
            let digits = text.hasPrefix("v") ? text.dropFirst() : Substring(text)
            let parts = digits.split(separator: ".", omittingEmptySubsequences: false)
            guard (1...3).contains(parts.count), let major = Int(parts[0]), major >= 1, major < 100 else {
                throw .unknownIDFVersion(text)
            }
            let minor = parts.count > 1 ? Int(parts[1]) : 0
            guard let minor, parts.dropFirst(2).allSatisfy({ Int($0) != nil }) else { throw .unknownIDFVersion(text) }
            self = (major, minor) < (5, 4) ? .countPrefixed : .offsetTable
        }
    }

    static func render(_ anchors: [TrustAnchor], layout: Layout) throws(TrustStoreError) -> [UInt8] {
        // Python's sort of `bytes` is memcmp order with the shorter prefix first, as here.
        let sorted = anchors.sorted { $0.subjectDER.lexicographicallyPrecedes($1.subjectDER) }
        guard sorted.count <= Int(UInt16.max) else { throw .tooManyForBundle(count: sorted.count, limit: Int(UInt16.max)) }
        var bundle: [UInt8] = []
        switch layout {
        case .countPrefixed:
            bundle += bigEndian(UInt16(sorted.count))
            for anchor in sorted {
                bundle += bigEndian(UInt16(anchor.subjectDER.count)) + bigEndian(UInt16(anchor.spkiDER.count))
                bundle += anchor.subjectDER + anchor.spkiDER
            }
        case .offsetTable:
            var body: [UInt8] = []
            var offsets: [UInt8] = []
            for anchor in sorted {
                offsets += littleEndian(UInt32(4 * sorted.count + body.count))
                body += littleEndian(UInt16(anchor.subjectDER.count)) + littleEndian(UInt16(anchor.spkiDER.count))
                body += anchor.subjectDER + anchor.spkiDER
            }
            bundle = offsets + body
        }
        return bundle
    }

    /// What the binary holds, for the people who flash it: the file has no room for names.
    static func manifest(_ anchors: [TrustAnchor], layout: Layout) -> String {
        var text = "x509_crt_bundle written by iotca's trust-store command for ESP-IDF "
        text += layout == .countPrefixed ? "up to v5.3 (count-prefixed layout)\n" : "v5.4 and later (offset-table layout)\n"
        text += "It holds each anchor's subject and public key, sorted by subject:\n"
        for anchor in anchors { text += "  \(CIdentifiers.commentText(anchor.summary))\n" }
        return text
    }

    private static func bigEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        withUnsafeBytes(of: value.bigEndian) { Array($0) }
    }

    private static func littleEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        withUnsafeBytes(of: value.littleEndian) { Array($0) }
    }
}
