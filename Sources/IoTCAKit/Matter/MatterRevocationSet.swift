import Foundation
import SwiftASN1
import X509

/// The revocation set the Matter SDK's commissioners read (`chip-tool
/// --dac-revocation-set-path`, the SDK's `TestDACRevocationDelegateImpl`): a JSON array with one
/// entry per CRL, each naming the CA whose certificates it revokes by its subject key
/// identifier (upper-case hex) and its subject Name (base64 of the DER), the revoked serials
/// (upper-case hex of the INTEGER's magnitude, as OpenSSL reads it) and the CRL signer's
/// certificate (base64 DER). Built from the CA's published CRL, so it says exactly what the
/// CRL behind the DCL's revocation point says.
public enum MatterRevocationSet {
    /// One entry for `crl`, signed by the CA whose certificate is `signer`.
    /// - Throws: `PolicyError.invalidValue` when either does not parse.
    public static func json(signer: [UInt8], crl: [UInt8]) throws(PolicyError) -> [UInt8] {
        guard let certificate = try? Certificate(derEncoded: signer),
              let keyID = (try? certificate.extensions.subjectKeyIdentifier)??.keyIdentifier else {
            throw .invalidValue("CRL signer certificate", reason: "does not parse, or has no subject key identifier")
        }
        var name = DER.Serializer()
        do { try name.serialize(certificate.subject) } catch { throw .invalidValue("CRL signer certificate", reason: "its subject does not encode") }
        guard let serials = revokedSerials(inCRL: crl) else { throw .invalidValue("CRL", reason: "does not parse") }
        let serialList = serials.map { "\"\(magnitude($0).hexString.uppercased())\"" }.joined(separator: ", ")
        // Every value is hex or base64: nothing to escape.
        let text = """
            [
              {
                "type": "revocation_set",
                "issuer_subject_key_id": "\(Array(keyID).hexString.uppercased())",
                "issuer_name": "\(Data(name.serializedBytes).base64EncodedString())",
                "revoked_serial_numbers": [\(serialList)],
                "crl_signer_cert": "\(Data(signer).base64EncodedString())"
              }
            ]

            """
        return Array(text.utf8)
    }

    /// The serial of each revokedCertificates entry of a CRL's DER (RFC 5280 5.1), in order.
    static func revokedSerials(inCRL der: [UInt8]) -> [ArraySlice<UInt8>]? {
        let reader = DERReader(bytes: der)
        guard let list = reader.element(at: 0, limit: der.count), list.tag == 0x30,
              let tbs = reader.firstChild(of: list), tbs.tag == 0x30,
              var field = reader.firstChild(of: tbs) else { return nil }
        if field.tag == 0x02 { guard let next = reader.next(after: field, in: tbs) else { return nil }; field = next }  // version
        // signature, then issuer and thisUpdate; nextUpdate and revokedCertificates are optional
        for _ in 0..<2 { guard let next = reader.next(after: field, in: tbs) else { return nil }; field = next }
        guard let afterThisUpdate = reader.next(after: field, in: tbs) else { return [] }
        var candidate = afterThisUpdate
        if candidate.tag == 0x17 || candidate.tag == 0x18 {
            guard let next = reader.next(after: candidate, in: tbs) else { return [] }
            candidate = next
        }
        guard candidate.tag == 0x30 else { return [] }
        var serials: [ArraySlice<UInt8>] = []
        var entry = reader.firstChild(of: candidate)
        while let current = entry {
            guard current.tag == 0x30, let serial = reader.firstChild(of: current), serial.tag == 0x02 else { return nil }
            serials.append(der[serial.contents..<serial.end])
            entry = reader.next(after: current, in: candidate)
        }
        return serials
    }

    /// An INTEGER's content without its sign octets: what OpenSSL's ASN1_INTEGER holds.
    static func magnitude(_ content: ArraySlice<UInt8>) -> [UInt8] {
        let trimmed = content.drop { $0 == 0 }
        return trimmed.isEmpty ? [0] : Array(trimmed)
    }
}
