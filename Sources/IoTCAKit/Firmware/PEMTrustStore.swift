/// Concatenated PEM with a line naming each anchor before it: RFC 7468 lets text stand between
/// encapsulation boundaries, and OpenSSL, mbedTLS and ESP-IDF's `gen_crt_bundle.py` skip it.
enum PEMTrustStore {
    static func render(_ anchors: [TrustAnchor]) -> String {
        var text = "# Trust anchors written by iotca's trust-store command (format pem), in this order:\n"
        for anchor in anchors {
            text += "# \(CIdentifiers.commentText(anchor.summary))\n"
        }
        for anchor in anchors {
            text += "\n# \(CIdentifiers.commentText(anchor.name))\n" + PEM.encode(anchor.der, type: "CERTIFICATE")
        }
        return text
    }
}
