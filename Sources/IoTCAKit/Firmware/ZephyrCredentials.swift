/// A folder for Zephyr's TLS credentials: `NAME.der.inc` per anchor, comma-separated bytes
/// for `static const unsigned char ca[] = {\n#include "NAME.der.inc"\n};` (what CMake's
/// `generate_inc_file_for_target` makes), and a README with the `tls_credential_add` calls.
enum ZephyrCredentials {
    static func render(_ anchors: [TrustAnchor]) -> [(path: String, bytes: [UInt8])] {
        let files = CIdentifiers.unique(anchors.map(\.name)).map { $0.lowercased() }
        var readme = """
            Trust anchors written by `iotca trust-store --format zephyr`, one DER file per anchor:

            """
        for (anchor, file) in zip(anchors, files) {
            readme += "  \(file).der.inc  \(CIdentifiers.commentText(anchor.summary))\n"
        }
        // Zephyr keeps one credential per tag and type (a second add is -EEXIST), so each
        // anchor gets a tag of its own and the socket is given the list.
        readme += """

            Add each under a security tag of its own (one CA certificate per tag; DER needs no NUL):

                #include <zephyr/net/tls_credentials.h>
                #define IOTCA_CA_TAG_BASE 1

            """
        for file in files {
            readme += "    static const unsigned char \(file)_der[] = {\n    #include \"\(file).der.inc\"\n    };\n"
        }
        readme += "\n    static const sec_tag_t iotca_ca_tags[] = { "
        readme += files.indices.map { "IOTCA_CA_TAG_BASE + \($0)" }.joined(separator: ", ") + " };\n"
        readme += "\n    int iotca_add_trust_anchors(void)\n    {\n        int err;\n"
        for (index, file) in files.enumerated() {
            readme += "        err = tls_credential_add(iotca_ca_tags[\(index)], TLS_CREDENTIAL_CA_CERTIFICATE, \(file)_der, sizeof \(file)_der);\n"
            readme += "        if (err < 0) {\n            return err;\n        }\n"
        }
        readme += """
                    return 0;
                }

            and give the socket every tag: setsockopt(fd, SOL_TLS, TLS_SEC_TAG_LIST, iotca_ca_tags, sizeof iotca_ca_tags).
            The next root was certified with its key in advance: after `iotca ca rotate-root`,
            chains under it verify with these files, unchanged.

            """
        var out: [(path: String, bytes: [UInt8])] = zip(anchors, files).map { anchor, file in
            ("\(file).der.inc", Array((CTrustHeader.byteLines(anchor.der, indent: "") + "\n").utf8))
        }
        out.append(("README.txt", Array(readme.utf8)))
        return out
    }
}
