import COpenSSL
import Foundation
import SwiftASN1
import X509

/// The last look before a CRL is recorded and published: `CRLBuilder` writes DER by hand, so
/// OpenSSL (`d2i_X509_CRL`, what brokers and TLS servers use) parses it, the fields are
/// compared with what was decided, and the signature is verified with the issuer's key.
enum CRLReleaseCheck {
    static func check(_ der: [UInt8], issuer: Certificate, number: Int64, thisUpdate: Int64, nextUpdate: Int64,
                      entries: Int) throws(SigningError) {
        func fail(_ what: String) -> SigningError { .releaseCheckFailed("CRL: \(what)") }
        let parsed = der.withUnsafeBufferPointer { buffer -> OpaquePointer? in
            var cursor = buffer.baseAddress
            return d2i_X509_CRL(nil, &cursor, buffer.count)
        }
        guard let crl = parsed else { throw fail("OpenSSL cannot parse it: \(OpenSSL.lastError())") }
        defer { X509_CRL_free(crl) }
        guard X509_CRL_get_version(crl) == 1 else { throw fail("version") }  // v2
        var issuerDER: [UInt8] = []
        var subjectDER: [UInt8] = []
        do {
            var serializer = DER.Serializer()
            try serializer.serialize(issuer.subject)
            subjectDER = serializer.serializedBytes
            var certificate = DER.Serializer()
            try certificate.serialize(issuer)
            issuerDER = certificate.serializedBytes
        } catch {
            throw fail("the issuer does not encode: \(error)")
        }
        guard let name = X509_CRL_get_issuer(crl), OpenSSL.encode({ i2d_X509_NAME(name, $0) }) == subjectDER else { throw fail("issuer name") }
        guard seconds(X509_CRL_get0_lastUpdate(crl)) == thisUpdate else { throw fail("thisUpdate") }
        guard seconds(X509_CRL_get0_nextUpdate(crl)) == nextUpdate else { throw fail("nextUpdate") }
        let revoked = X509_CRL_get_REVOKED(crl)
        guard (revoked.map { Int(OPENSSL_sk_num($0)) } ?? 0) == entries else { throw fail("entry count") }
        guard let numberPointer = X509_CRL_get_ext_d2i(crl, NID_crl_number, nil, nil) else { throw fail("no CRL number") }
        let integer = numberPointer.assumingMemoryBound(to: ASN1_INTEGER.self)
        defer { ASN1_INTEGER_free(integer) }
        var value: Int64 = 0
        guard ASN1_INTEGER_get_int64(&value, integer) == 1, value == number else { throw fail("CRL number") }
        let issuerCertificate = issuerDER.withUnsafeBufferPointer { buffer -> OpaquePointer? in
            var cursor = buffer.baseAddress
            return d2i_X509(nil, &cursor, buffer.count)
        }
        guard let issuerCertificate else { throw fail("the issuer certificate does not parse") }
        defer { X509_free(issuerCertificate) }
        guard let key = X509_get0_pubkey(issuerCertificate), X509_CRL_verify(crl, key) == 1 else {
            throw fail("the signature does not verify with the issuer's key")
        }
    }

    /// An ASN1_TIME as seconds since 1970; nil when absent or unreadable.
    private static func seconds(_ time: UnsafePointer<ASN1_TIME>?) -> Int64? {
        guard let time else { return nil }
        var parts = tm()
        guard ASN1_TIME_to_tm(time, &parts) == 1 else { return nil }
        return Int64(timegm(&parts))
    }
}
