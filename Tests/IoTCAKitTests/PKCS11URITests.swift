import Crypto
import Foundation
@testable import IoTCAKit
import Testing

/// RFC 7512 URIs as iotca reads and writes them, and the r‖s to DER conversion of token
/// ECDSA signatures.
@Suite struct PKCS11URITests {
    @Test func parsesWhatRFC7512WritesAndWritesItBack() throws {
        let uri = try PKCS11URI(parsing: "pkcs11:token=My%20HSM;object=issuing;id=%01%ab;type=private?module-path=/usr/lib/softhsm/libsofthsm2.so")
        #expect(uri.token == "My HSM" && uri.object == "issuing" && uri.id == [0x01, 0xAB])
        #expect(uri.modulePath == "/usr/lib/softhsm/libsofthsm2.so")
        #expect(try PKCS11URI(parsing: uri.description) == uri)
        #expect(uri.withoutModule == "pkcs11:token=My%20HSM;object=issuing;id=%01%ab;type=private")
        // Attributes iotca does not use are accepted and dropped.
        #expect(try PKCS11URI(parsing: "pkcs11:manufacturer=SoftHSM%20project;token=a").token == "a")
    }

    @Test(arguments: [
        "token=a", "pkcs11:object=x", "pkcs11:token=a;type=public", "pkcs11:token=a;colour=blue", "pkcs11:token=a;id=%zz",
        "pkcs11:token=a?pin-value=1234", "pkcs11:token=a;object",
    ]) func refusesWhatItCannotUse(text: String) {
        #expect(throws: PKCS11Error.self) { try PKCS11URI(parsing: text) }
    }

    /// Every split of high bits and leading zeros: the DER swift-crypto reads back is the same r‖s.
    @Test func tokenSignaturesBecomeTheDERCertificatesCarry() throws {
        let key = P256.Signing.PrivateKey()
        for _ in 0..<200 {
            let signature = try key.signature(for: Array("message".utf8))
            let raw = Array(signature.rawRepresentation)
            let der = try TokenKey.derECDSA(raw)
            #expect(Array(try P256.Signing.ECDSASignature(derRepresentation: der).rawRepresentation) == raw)
        }
        let edges: [[UInt8]] = [[0x80] + [UInt8](repeating: 0, count: 31) + [0x00, 0x00] + [UInt8](repeating: 1, count: 30),
                                [0x00, 0x7F] + [UInt8](repeating: 0xFF, count: 30) + [0xFF] + [UInt8](repeating: 0, count: 31)]
        for raw in edges {
            let der = try TokenKey.derECDSA(raw)
            #expect(Array(try P256.Signing.ECDSASignature(derRepresentation: der).rawRepresentation) == raw)
        }
        #expect(throws: PKCS11Error.self) { try TokenKey.derECDSA([1, 2, 3]) }
    }
}
