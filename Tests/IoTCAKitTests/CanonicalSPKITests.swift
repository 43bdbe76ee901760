import Crypto
import Foundation
import SwiftASN1
@testable import IoTCAKit
import Testing
import TestSupport
import X509

/// A request's SubjectPublicKeyInfo goes into the certificate as it is only when it equals
/// the key encoded again (`CanonicalSPKI`); every other form is encoded again, as before.
@Suite struct CanonicalSPKITests {
    static func request(_ key: Certificate.PrivateKey, _ algorithm: Certificate.SignatureAlgorithm) throws -> [UInt8] {
        let csr = try CertificateSigningRequest(version: .v1, subject: try DistinguishedName { CommonName("device") },
                                                privateKey: key, attributes: .init(), signatureAlgorithm: algorithm)
        var serializer = DER.Serializer()
        try serializer.serialize(csr)
        return serializer.serializedBytes
    }

    @Test func theRequestsBytesAreTheKeyEncodedAgainForEachCurve() throws {
        for _ in 0..<50 {
            for (key, algorithm) in [(Certificate.PrivateKey(P256.Signing.PrivateKey()), Certificate.SignatureAlgorithm.ecdsaWithSHA256),
                                     (Certificate.PrivateKey(P384.Signing.PrivateKey()), .ecdsaWithSHA384)] {
                let der = try Self.request(key, algorithm)
                let proven = try CSRCheck.requestKey(fromRequest: der)
                let taken = try #require(proven.subjectPublicKeyInfoDER)
                #expect(taken == (try CertificateWriter.serialized(proven.publicKey)))
            }
        }
    }

    @Test func otherKeysAreEncodedAgain() throws {
        let ed25519 = try Self.request(Certificate.PrivateKey(Curve25519.Signing.PrivateKey()), .ed25519)
        #expect(try CSRCheck.requestKey(fromRequest: ed25519).subjectPublicKeyInfoDER == nil)
        // A P-256 request whose point OpenSSL wrote compressed: refused, or issued with the
        // uncompressed point, never copied.
        let folder = TemporaryFolder()
        let key = folder.path("compressed.key"), csr = folder.path("compressed.csr")
        try OpenSSLCLI.run(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key + ".plain"])
        try OpenSSLCLI.run(["ec", "-in", key + ".plain", "-conv_form", "compressed", "-out", key])
        try OpenSSLCLI.run(["req", "-new", "-key", key, "-subj", "/CN=device", "-outform", "DER", "-out", csr])
        let compressed = try [UInt8](Data(contentsOf: URL(fileURLWithPath: csr)))
        #expect(compressed.count < 200)  // the point took 33 bytes, not 65
        #expect(CanonicalSPKI.bytes(inRequest: compressed) == nil)
        let store = try TemporaryStore()
        // Issued (swift-certificates reads the point) or refused, as before; if issued, the
        // certificate's own bytes hold the uncompressed point.
        do {
            let issued = try store.provisioner.issue(IssueRequest(thing: "dev-c", csr: compressed), bundleParent: store.folder.appending("b"))
            let spki = try #require(Fingerprints.subjectPublicKeyInfo(inCertificate: issued.entry.der))
            #expect(spki.count == 91 && spki[spki.startIndex + 26] == 0x04)
        } catch let error as PolicyError {
            #expect(error.description.contains("CSR") || error.description.contains("key"), "\(error)")
        }
    }

    @Test func aCertificateFromARequestCarriesItsKeyAndPassesOpenSSL() throws {
        let store = try TemporaryStore()
        let key = P256.Signing.PrivateKey()
        let der = try Self.request(Certificate.PrivateKey(key), .ecdsaWithSHA256)
        let issued = try store.provisioner.issue(IssueRequest(thing: "dev-1", csr: der), bundleParent: store.folder.appending("b"))
        let certificate = try Certificate(derEncoded: issued.entry.der)
        #expect(certificate.publicKey == Certificate.PublicKey(key.publicKey))
        let bundle = try #require(issued.location)
        #expect(try OpenSSLCLI.verifyBundle(bundle).succeeded)
    }
}
