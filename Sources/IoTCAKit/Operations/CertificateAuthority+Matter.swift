import Foundation

extension CertificateAuthority {
    /// The Matter revocation set for CA `name`'s newest published CRL (`MatterRevocationSet`).
    /// - Throws: `AuthorityError` (no such CA), `PolicyError.invalidValue` when the CA has
    ///   published no CRL yet or its CRL is no longer kept.
    public func matterRevocationSet(of name: String) throws -> [UInt8] {
        let authority = try store.authority(named: name)
        guard let certificate = authority.certificateDER else {
            throw PolicyError.invalidValue("CA \(name)", reason: "has no certificate yet")
        }
        guard let (_, crl) = try store.latestCRLDER(of: name) else {
            throw PolicyError.invalidValue("CA \(name)", reason: "has published no CRL: publish its CRL first (the set lists what the CRL lists)")
        }
        return try MatterRevocationSet.json(signer: certificate, crl: crl)
    }
}
