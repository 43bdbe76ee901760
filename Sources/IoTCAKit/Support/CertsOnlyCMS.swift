/// A "certs-only" CMS SignedData (RFC 5652 5.1 with no signers, as RFC 7030 4.1.3 and 4.2.3
/// use it): the way EST hands out certificates, and what `openssl crl2pkcs7 -nocrl` writes.
/// swift-certificates can parse CMS but builds only signed ones (and that as SPI).
public enum CertsOnlyCMS {
    /// The ContentInfo DER holding `certificates` (DER each) in the order given.
    public static func encode(_ certificates: [[UInt8]]) -> [UInt8] {
        var writer = DERWriter(capacity: certificates.reduce(64) { $0 + $1.count })
        writer.element(0x30) { info in
            info.append([0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x02])  // id-signedData
            info.element(0xA0) { explicit in
                explicit.element(0x30) { signed in
                    signed.append([0x02, 0x01, 0x01])  // version 1
                    signed.append([0x31, 0x00])  // digestAlgorithms: none
                    signed.append([0x30, 0x0B, 0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x01])  // id-data, no content
                    signed.element(0xA0) { for certificate in certificates { $0.append(certificate) } }
                    signed.append([0x31, 0x00])  // signerInfos: none
                }
            }
        }
        return writer.bytes
    }
}
