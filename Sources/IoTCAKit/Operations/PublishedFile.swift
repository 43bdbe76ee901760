import Crypto
import Foundation

/// A file of the public layout that `--public-url` puts into certificates (`NAME.crl` DER,
/// `NAME.crl.pem`, `NAME.crt` DER), read from the store rather than the `public/` folder, so a
/// server answers with the newest record however the files were written.
public struct PublishedFile: Sendable, Equatable {
    public let bytes: [UInt8]
    /// `application/pkix-crl`, `application/x-pem-file` or `application/pkix-cert`.
    public let contentType: String
    /// A CRL's thisUpdate; a certificate's notBefore.
    public let lastModified: Date
    /// A CRL's nextUpdate (caches must ask again then); nil for a certificate.
    public let expires: Date?
    /// Hex SHA-256 of the bytes: a strong validator (RFC 9110 §8.8.3).
    public let sha256: String

    init(bytes: [UInt8], contentType: String, lastModified: Date, expires: Date?) {
        self.bytes = bytes
        self.contentType = contentType
        self.lastModified = lastModified
        self.expires = expires
        sha256 = Array(SHA256.hash(data: bytes)).hexString
    }
}

extension CertificateAuthority {
    /// The public file `name` (`NAME.crl`, `NAME.crl.pem` or `NAME.crt`), or nil when there is
    /// no such CA, it has no CRL yet, or the name is not of that layout.
    /// - Throws: `StoreError`.
    public func publishedFile(_ name: String) throws -> PublishedFile? {
        for (suffix, kind) in [(".crl.pem", 0), (".crl", 1), (".crt", 2)] where name.hasSuffix(suffix) {
            let ca = String(name.dropLast(suffix.count))
            guard (try? ThingName.validate(ca, kind: "CA")) != nil else { return nil }
            let authority: Authority
            do {
                authority = try store.authority(named: ca)
            } catch AuthorityError.notFound {
                return nil
            }
            switch kind {
            case 2:
                guard let der = authority.certificateDER else { return nil }
                return PublishedFile(bytes: der, contentType: "application/pkix-cert",
                                     lastModified: authority.notBefore ?? authority.createdAt, expires: nil)
            default:
                guard let (record, der) = try store.latestCRLDER(of: ca) else { return nil }
                let bytes = kind == 1 ? der : PEM.bytes(der, type: "X509 CRL")
                return PublishedFile(bytes: bytes, contentType: kind == 1 ? "application/pkix-crl" : "application/x-pem-file",
                                     lastModified: record.thisUpdate, expires: record.nextUpdate)
            }
        }
        return nil
    }
}
