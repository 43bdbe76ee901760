/// `iotca trust-store --format c`: one header for mbedTLS, wolfSSL and any stack that takes DER
/// or PEM from memory. It defines, for every anchor, a DER array; a table
/// `iotca_trust_anchors[IOTCA_TRUST_ANCHOR_COUNT]` of `iotca_trust_anchor_t`; and
/// `iotca_trust_anchors_pem`, all anchors as one NUL-terminated PEM string, so that
/// `mbedtls_x509_crt_parse(&chain, (const unsigned char *)iotca_trust_anchors_pem, sizeof iotca_trust_anchors_pem)`
/// works as written (mbedTLS wants the NUL counted for PEM, `x509_crt.h`).
///
/// Everything is `static const` so that two files may include it; `IOTCA_TRUST_UNUSED` keeps
/// compilers quiet about the arrays a program does not use. It compiles with
/// `cc -std=c99 -Wall -Wextra -Werror` (tested).
enum CTrustHeader {
    static func render(_ anchors: [TrustAnchor]) -> String {
        let identifiers = CIdentifiers.unique(anchors.map(\.name)).map { $0.lowercased() }
        var text = "/* Trust anchors written by iotca's trust-store command (format c), in this order:\n"
        for anchor in anchors {
            text += " *   \(CIdentifiers.commentText(anchor.summary))\n"
        }
        text += """
             * The next root was certified with its key in advance: after `iotca ca rotate-root`,
             * chains under it verify with the anchors of this header, unchanged.
             */
            #ifndef IOTCA_TRUST_ANCHORS_H
            #define IOTCA_TRUST_ANCHORS_H

            #include <stddef.h>

            #if defined(__GNUC__) || defined(__clang__)
            #define IOTCA_TRUST_UNUSED __attribute__((unused))
            #else
            #define IOTCA_TRUST_UNUSED
            #endif

            #define IOTCA_TRUST_ANCHOR_COUNT \(anchors.count)

            typedef struct iotca_trust_anchor {
                const char *name;
                const unsigned char *der;
                size_t der_len;
            } iotca_trust_anchor_t;


            """
        for (anchor, identifier) in zip(anchors, identifiers) {
            text += "/* \(CIdentifiers.commentText(anchor.name)): \(anchor.der.count) bytes of DER */\n"
            text += "static const unsigned char iotca_trust_anchor_\(identifier)_der[\(anchor.der.count)] IOTCA_TRUST_UNUSED = {\n"
            text += byteLines(anchor.der, indent: "    ") + "\n};\n\n"
        }
        text += "static const iotca_trust_anchor_t iotca_trust_anchors[IOTCA_TRUST_ANCHOR_COUNT] IOTCA_TRUST_UNUSED = {\n"
        text += zip(anchors, identifiers).map { anchor, identifier in
            "    { \(stringLiteral(anchor.name)), iotca_trust_anchor_\(identifier)_der, sizeof iotca_trust_anchor_\(identifier)_der }"
        }.joined(separator: ",\n")
        text += "\n};\n\n"
        text += "/* All anchors as PEM, NUL-terminated: pass sizeof, which counts the NUL. */\n"
        text += "static const char iotca_trust_anchors_pem[] IOTCA_TRUST_UNUSED =\n"
        let lines = anchors.flatMap { PEM.encode($0.der, type: "CERTIFICATE").split(separator: "\n").map { "    \"\($0)\\n\"" } }
        text += lines.joined(separator: "\n") + ";\n\n#endif /* IOTCA_TRUST_ANCHORS_H */\n"
        return text
    }

    /// Bytes as `0x30, 0x82, ...`, twelve to a line (the form of wolfSSL's `certs_test.h`).
    static func byteLines(_ bytes: [UInt8], indent: String) -> String {
        stride(from: 0, to: bytes.count, by: 12).map { start in
            indent + bytes[start..<min(start + 12, bytes.count)].map { hex($0) }.joined(separator: ", ")
        }.joined(separator: ",\n")
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return "0x" + String(digits[Int(byte >> 4)]) + String(digits[Int(byte & 0xF)])
    }

    /// A C string literal of `text`: printable ASCII as is, but `"`, `\` and `?` (trigraphs)
    /// escaped, and every other byte as a three-digit octal escape (which, unlike `\x`, cannot
    /// swallow the character after it).
    static func stringLiteral(_ text: String) -> String {
        var literal = "\""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "?"):
                literal += "\\" + String(UnicodeScalar(byte))
            case 0x20...0x7E:
                literal += String(UnicodeScalar(byte))
            default:
                let octal = String(byte, radix: 8)
                literal += "\\" + String(repeating: "0", count: 3 - octal.count) + octal
            }
        }
        return literal + "\""
    }
}
