import Foundation
@testable import IoTCAKit
import Testing
import TestSupport
import X509

/// The CRL release check reads the DER in one pass instead of OpenSSL's full parse: held here
/// to refusing every CRL OpenSSL refuses (`openssl crl` parses with d2i_X509_CRL and verifies the
/// signature with `-CAfile`), over thousands of mutations of a real CRL and over re-signed ones
/// whose structure is wrong under a valid signature.
@Suite struct CRLReleaseCheckTests {
    struct Published {
        let der: [UInt8]
        let record: CRLRecord
        let signer: Signer
        let issuerPEM: String
    }

    static func publish(_ fixture: TemporaryStore, keyType: KeyAlgorithm) throws -> Published {
        let service = RevocationService(keyring: fixture.keyring)
        for index in 0..<5 {
            let issued = try fixture.issue(IssueRequest(thing: "crl-\(index)"))
            _ = try service.revoke(.serial(issued.entry.serial, authority: nil), reason: index == 0 ? .unspecified : .keyCompromise,
                                   invalidityDate: index == 2 ? fixture.clock.now.addingTimeInterval(-3_600) : nil)
        }
        let record = try #require(try service.publish("issuing"))
        let der = Array(try Data(contentsOf: service.crlFiles(of: "issuing").der))
        let signer = try fixture.keyring.signer(for: try fixture.store.authority(named: "issuing"), toIssue: false)
        let issuerPEM = fixture.folder.path("issuing.pem")
        try Data(IssuedCertificate.pem(try #require(try fixture.store.authority(named: "issuing").certificateDER)).utf8).write(to: URL(fileURLWithPath: issuerPEM))
        return Published(der: der, record: record, signer: signer, issuerPEM: issuerPEM)
    }

    static func ours(_ der: [UInt8], _ published: Published) -> Bool {
        let record = published.record
        return (try? CRLReleaseCheck.check(der, issuer: published.signer.certificate, algorithm: published.signer.keyAlgorithm,
                                           number: record.number, thisUpdate: Int64(record.thisUpdate.timeIntervalSince1970),
                                           nextUpdate: Int64(record.nextUpdate.timeIntervalSince1970), entries: record.entries)) != nil
    }

    /// OpenSSL's verdict: it parses (d2i_X509_CRL) and the signature verifies.
    static func openSSL(_ der: [UInt8], _ published: Published, scratch: URL) throws -> Bool {
        try Data(der).write(to: scratch)
        let result = try OpenSSLCLI.run(["crl", "-inform", "DER", "-in", scratch.path, "-CAfile", published.issuerPEM, "-noout"])
        return result.succeeded && (result.stderr + result.stdout).contains("verify OK")
    }

    @Test(arguments: [KeyAlgorithm.ecP256, .rsa2048, .ed25519])
    func everyMutationOpenSSLRefusesIsRefused(keyType: KeyAlgorithm) throws {
        let fixture = try TemporaryStore(keyType: keyType, encrypted: false)
        let published = try Self.publish(fixture, keyType: keyType)
        let scratch = fixture.folder.appending("mutated.der")
        let acceptedByOpenSSL = try Self.openSSL(published.der, published, scratch: scratch)
        #expect(Self.ours(published.der, published) && acceptedByOpenSSL)
        var generator = SystemRandomNumberGenerator()
        var refusedByBoth = 0
        for round in 0..<300 {
            var mutated = published.der
            let at = Int.random(in: 0..<mutated.count, using: &generator)
            switch round % 5 {
            case 0: mutated[at] ^= UInt8.random(in: 1...255, using: &generator)
            case 1: mutated.removeSubrange(at...)
            case 2: mutated.insert(UInt8.random(in: 0...255, using: &generator), at: at)
            case 3: mutated.remove(at: at)
            default: mutated[at] = [0x00, 0x80, 0x81, 0xFF][round % 4]
            }
            let theirs = try Self.openSSL(mutated, published, scratch: scratch)
            let accepted = Self.ours(mutated, published)
            #expect(theirs || !accepted, "round \(round): OpenSSL refuses, the release check accepts (byte \(at))")
            if !theirs && !accepted { refusedByBoth += 1 }
        }
        #expect(refusedByBoth > 250)
    }

    /// Wrong structures under a valid signature: re-signed by the CA's own key, so only the
    /// structure can make them fail.
    @Test func wrongStructuresUnderAValidSignatureAreRefused() throws {
        let fixture = try TemporaryStore(encrypted: false)
        let published = try Self.publish(fixture, keyType: .ecP256)
        let scratch = fixture.folder.appending("resigned.der")
        let original = try Self.parts(published.der)
        // Each edit of the TBS bytes, then re-signed.
        let edits: [(String, ([UInt8]) -> [UInt8])] = [
            ("an indefinite length", { tbs in [0x30, 0x80] + tbs.dropFirst(Self.headerLength(tbs)) + [0x00, 0x00] }),
            ("a byte after the extensions", { tbs in Self.wrap(Array(tbs.dropFirst(Self.headerLength(tbs))) + [0x05, 0x00]) }),
            ("a non-minimal length", { tbs in
                let body = Array(tbs.dropFirst(Self.headerLength(tbs)))
                return [0x30, 0x84] + withUnsafeBytes(of: UInt32(body.count).bigEndian) { Array($0) } + body
            }),
            ("version v1", { tbs in
                var body = Array(tbs.dropFirst(Self.headerLength(tbs)))
                body[2] = 0x00
                return Self.wrap(body)
            }),
        ]
        for (name, edit) in edits {
            let tbs = edit(original.tbs)
            let signature = try published.signer.signature(forCRL: tbs)
            let der = Self.wrap(tbs + original.algorithm + [0x03] + Self.length(signature.count + 1) + [0x00] + signature)
            // Refused whatever OpenSSL says: some of these OpenSSL reads as BER and accepts;
            // the release check is stricter there, never laxer.
            #expect(!Self.ours(der, published), "\(name): accepted")
        }
        // The untouched parts re-signed are accepted: the harness itself is sound.
        let signature = try published.signer.signature(forCRL: original.tbs)
        let same = Self.wrap(original.tbs + original.algorithm + [0x03] + Self.length(signature.count + 1) + [0x00] + signature)
        let sameByOpenSSL = try Self.openSSL(same, published, scratch: scratch)
        #expect(Self.ours(same, published) && sameByOpenSSL)
    }

    static func headerLength(_ bytes: [UInt8]) -> Int { bytes[1] & 0x80 == 0 ? 2 : 2 + Int(bytes[1] & 0x7F) }

    static func length(_ count: Int) -> [UInt8] {
        if count < 128 { return [UInt8(count)] }
        let bytes = withUnsafeBytes(of: UInt32(count).bigEndian) { Array($0) }.drop { $0 == 0 }
        return [0x80 | UInt8(bytes.count)] + bytes
    }

    static func wrap(_ body: [UInt8]) -> [UInt8] { [0x30] + length(body.count) + body }

    /// The TBS and the signature algorithm of a CRL, as bytes.
    static func parts(_ der: [UInt8]) throws -> (tbs: [UInt8], algorithm: [UInt8]) {
        let outer = headerLength(der)
        let tbsLength = headerLength(Array(der[outer...])) + {
            let header = Array(der[outer...])
            return header[1] & 0x80 == 0 ? Int(header[1]) : header[2..<(2 + Int(header[1] & 0x7F))].reduce(0) { $0 << 8 | Int($1) }
        }()
        let tbs = Array(der[outer..<(outer + tbsLength)])
        let rest = Array(der[(outer + tbsLength)...])
        let algorithm = Array(rest[0..<(2 + Int(rest[1]))])
        return (tbs, algorithm)
    }
}
