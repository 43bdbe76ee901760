import SwiftASN1
import X509

/// The last look before a CRL is recorded and published: `CRLBuilder` writes DER by hand, so
/// the result is read back in one pass, strictly (DER only: definite, minimal lengths, one-byte
/// tags, nothing left over), every field compared with what was decided, every entry's serial,
/// time and extensions checked, and the signature verified with the issuer's key over the TBS
/// bytes in place. OpenSSL's `d2i_X509_CRL` did this with a structure per entry: a million
/// entries took a second and 300 MB; this reads them where they lie. `CRLReleaseCheckTests`
/// hold it to refusing whatever OpenSSL's full parse refuses.
enum CRLReleaseCheck {
    static func check(_ der: [UInt8], issuer: Certificate, algorithm: KeyAlgorithm, number: Int64, thisUpdate: Int64, nextUpdate: Int64,
                      entries: Int) throws(SigningError) {
        do {
            try der.withUnsafeBufferPointer { buffer throws(CRLReadError) in
                let reader = CRLReader(buffer)
                let expected = try Expected(issuer: issuer, algorithm: algorithm, number: number, thisUpdate: thisUpdate,
                                            nextUpdate: nextUpdate, entries: entries)
                let tbs = try reader.read(expected)
                guard issuer.publicKey.isValidSignature(tbs.signature, for: tbs.signed, signatureAlgorithm: algorithm.signatureAlgorithm) else {
                    throw CRLReadError("the signature does not verify with the issuer's key")
                }
            }
        } catch {
            throw .releaseCheckFailed("CRL: \(error.reason)")
        }
    }

    /// What the CRL must say.
    struct Expected {
        let algorithmIdentifier: [UInt8]
        let issuerName: [UInt8]
        let number: Int64
        let thisUpdate: Int64
        let nextUpdate: Int64
        let entries: Int

        init(issuer: Certificate, algorithm: KeyAlgorithm, number: Int64, thisUpdate: Int64, nextUpdate: Int64, entries: Int) throws(CRLReadError) {
            var name = DER.Serializer()
            do { try name.serialize(issuer.subject) } catch { throw CRLReadError("the issuer's name does not encode") }
            self.algorithmIdentifier = algorithm.signatureAlgorithmIdentifierDER
            self.issuerName = name.serializedBytes
            self.number = number
            self.thisUpdate = thisUpdate
            self.nextUpdate = nextUpdate
            self.entries = entries
        }
    }
}
