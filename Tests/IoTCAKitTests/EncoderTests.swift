import COpenSSL
import Foundation
@testable @_spi(Fuzzing) import IoTCAKit
import SwiftASN1
import Testing
import TestSupport
import X509

/// The hand-written encoders against independent ones (issue 10, item 4): DERWriter's lengths
/// against SwiftASN1, CompactJSON against JSONEncoder, CRLBuilder's bytes against the CRL
/// OpenSSL's own API makes for the same entries.
@Suite struct EncoderTests {
    @Test(arguments: [0, 1, 127, 128, 255, 256, 65_535, 65_536, 70_000])
    func derLengthsAtEveryBoundaryMatchSwiftASN1(length: Int) throws {
        let content = [UInt8](repeating: 0xA5, count: length)
        var writer = DERWriter()
        writer.header(0x04, count: content.count)
        writer.append(content)
        var serializer = DER.Serializer()
        try serializer.serialize(ASN1OctetString(contentBytes: ArraySlice(content)))
        #expect(writer.bytes == serializer.serializedBytes)
        #expect(DERWriter.headerLength(count: length) == serializer.serializedBytes.count - length)
        var nested = DERWriter()
        nested.element(0x30) { $0.header(0x04, count: content.count); $0.append(content) }
        let parsed = try DER.parse(nested.bytes)
        guard case .constructed(let children) = parsed.content else { Issue.record("not constructed"); return }
        #expect(Array(children).first.map { try? ASN1OctetString(derEncoded: $0).bytes.count } == length)
    }

    /// The CRL loop's hex decoder against the strict one, on every two-byte text and on
    /// serial-length texts with one character changed to every byte value.
    @Test func hexPairsEqualTheStrictDecoder() {
        func both(_ text: [UInt8]) -> (fast: [UInt8]?, strict: [UInt8]?) {
            var fast: [UInt8] = [7], strict: [UInt8] = [7]
            let fastValid = text.withUnsafeBufferPointer { Hex.appendPairs($0, to: &fast) }
            let strictValid = Hex.append(text, to: &strict)
            return (fastValid ? fast : nil, strictValid ? strict : nil)
        }
        var differences = 0
        for high in 0...255 {
            for low in 0...255 {
                let result = both([UInt8(high), UInt8(low)])
                if result.fast != result.strict { differences += 1 }
            }
        }
        let serial = Array("7F3a9B0c1D2e3F405162738495a6B7c8D9eaFB0c".utf8)
        for position in [0, 1, 20, 39] {
            for value in 0...255 {
                var text = serial
                text[position] = UInt8(value)
                let result = both(text)
                if result.fast != result.strict { differences += 1 }
            }
        }
        for length in 0...5 {
            let result = both(Array(serial.prefix(length)))
            if result.fast != result.strict { differences += 1 }
        }
        #expect(differences == 0)
        #expect(both(serial).fast?.count == 21)
    }

    @Test func compactJSONEqualsJSONEncoder() throws {
        let hostile = ["", "plain", "quote \" and \\ backslash", "controls \u{0} \u{1F} \u{8} \u{C} \n \r \t", "unicode é ✓ 𝄞",
                       "</script>", "\u{7F}", "slash /"]
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let object = Dictionary(uniqueKeysWithValues: hostile.enumerated().map { ("k\($0.offset) \($0.element)", $0.element) })
        let ours = try JSONSerialization.jsonObject(with: Data(CompactJSON.object(object).utf8)) as? [String: String]
        #expect(ours == object)
        #expect(CompactJSON.object(object) == String(decoding: try encoder.encode(object), as: UTF8.self))
        for list in [[], ["one"], hostile] {
            #expect(CompactJSON.array(list) == String(decoding: try encoder.encode(list), as: UTF8.self))
        }
    }

    @Test func entriesAndManifestsWrittenAsBytesEqualJSONEncoders() throws {
        let fixture = try TemporaryStore()
        var issued = try fixture.issue(IssueRequest(thing: "device-1", subjectAltNames: [try SubjectAltName("dns:a.example")]))
        let hostile = "CN=\"quoted\" / \\ é \u{1} \n"
        issued.entry.subject = hostile
        // Foundation's own ISO 8601 strategy is the reference for the compact encoder's dates.
        let reference = JSONEncoder()
        reference.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        reference.dateEncodingStrategy = .iso8601
        var revoked = issued.entry
        revoked.status = .revoked
        revoked.revokedAt = Date(timeIntervalSince1970: 1_800_000_000.75)
        revoked.revocationReason = "keyCompromise"
        var authority = issued.entry
        authority.thing = nil
        authority.subjectAuthority = "issuing"
        authority.subjectAltNames = []
        for entry in [issued.entry, revoked, authority] {
            #expect(entry.compactJSON == Array(try reference.encode(entry)))
            #expect(entry.compactJSON == Array(try JSONEncoder.iotcaCompact.encode(entry)))
        }
        var manifest = issued.bundle.manifest
        manifest.subject = hostile
        #expect(manifest.compactJSON == Array(try reference.encode(manifest)))
        #expect(manifest.prettyJSON == Array(try JSONEncoder.iotca.encode(manifest)) + [0x0A])
        manifest.subjectAltNames = []
        #expect(manifest.prettyJSON == Array(try JSONEncoder.iotca.encode(manifest)) + [0x0A])
    }

    @Test func crlBytesEqualOpenSSLsForTheSameEntries() throws {
        // Ed25519 signatures are deterministic, so the whole CRL, signature included, must match.
        let fixture = try TemporaryStore(keyType: .ed25519, encrypted: false)
        let authority = try fixture.store.authority(named: "issuing")
        let signer = try fixture.keyring.signer(for: authority)
        let keyPEM = try String(contentsOf: fixture.store.layout.url(authority.keyFile), encoding: .utf8)
        let key = try PrivateKeyMaterial(pem: keyPEM, passphrase: nil, path: "issuing")
        let thisUpdate: Int64 = 1_795_000_000, nextUpdate: Int64 = thisUpdate + 7 * 86_400
        let entries = [
            RevokedEntry(serial: [0x01], revokedAt: thisUpdate - 10, reason: .unspecified, invalidityDate: nil),
            RevokedEntry(serial: [0x80] + [UInt8](repeating: 0x42, count: 19), revokedAt: thisUpdate - 5, reason: .keyCompromise,
                         invalidityDate: thisUpdate - 86_400),
            RevokedEntry(serial: [0x7F, 0xFF], revokedAt: 2_600_000_000, reason: .superseded, invalidityDate: nil),  // GeneralizedTime year
            RevokedEntry(serial: [0x00, 0x12], revokedAt: thisUpdate, reason: .cessationOfOperation, invalidityDate: 2_600_000_000),
        ]
        var builder = CRLBuilder(expectedEntries: entries.count)
        for entry in entries { builder.append(entry) }
        let ours = try builder.finish(issuer: signer.certificate, algorithm: .ed25519, thisUpdate: thisUpdate, nextUpdate: nextUpdate,
                                      number: 300, sign: { try signer.signature(forCRL: $0) })
        let theirs = try Self.openSSLCRL(issuer: try #require(authority.certificateDER), key: key, entries: entries,
                                         thisUpdate: thisUpdate, nextUpdate: nextUpdate, number: 300)
        #expect(ours == theirs)
        // And the release check accepts it (and would refuse another number).
        try CRLReleaseCheck.check(ours, issuer: signer.certificate, algorithm: .ed25519, number: 300, thisUpdate: thisUpdate, nextUpdate: nextUpdate, entries: 4)
        #expect(throws: SigningError.self) {
            try CRLReleaseCheck.check(ours, issuer: signer.certificate, algorithm: .ed25519, number: 301, thisUpdate: thisUpdate, nextUpdate: nextUpdate, entries: 4)
        }
    }

    @Test func theReleaseCheckRefusesACertificateThatIsNotWhatWasDecided() throws {
        let fixture = try TemporaryStore(encrypted: false)
        let issued = try fixture.issue(IssueRequest(thing: "d-1"))
        let signer = try fixture.keyring.signer(for: try fixture.store.authority(named: "issuing"))
        let certificate = try issued.entry.der.withUnsafeBufferPointer { _ in try Certificate(derEncoded: issued.entry.der) }
        var spec = CertificateSpec(
            serial: issued.entry.serial, subject: certificate.subject, publicKey: certificate.publicKey,
            notBefore: certificate.notValidBefore, notAfter: certificate.notValidAfter, isCA: false, pathLength: nil,
            keyUsage: try #require(try certificate.extensions.keyUsage), extendedKeyUsage: [.clientAuth],
            subjectAltNames: [try SubjectAltName("uri:https://iotca.invalid/things/d-1")])
        try ReleaseCheck.check(issued.entry.der, against: spec, issuerName: signer.certificate.subject,
                               issuerKey: signer.certificate.publicKey, verifySignature: true)
        var otherSerial = spec
        otherSerial.serial = SerialNumber(bytes: [0x01])
        var otherName = spec
        otherName.subjectAltNames = [try SubjectAltName("uri:https://iotca.invalid/things/d-2")]
        var otherKey = spec
        otherKey.publicKey = try KeyGenerator().generate(.ecP256).publicKey
        spec.extendedKeyUsage = [.serverAuth]
        let root = try fixture.store.authority(named: "root").certificate()
        for (label, candidate, key) in [("serial", otherSerial, signer.certificate.publicKey), ("subjectAltName", otherName, signer.certificate.publicKey),
                                        ("extendedKeyUsage", spec, signer.certificate.publicKey),
                                        ("public key", otherKey, signer.certificate.publicKey)] {
            #expect(throws: SigningError.releaseCheckFailed(label)) {
                try ReleaseCheck.check(issued.entry.der, against: candidate, issuerName: signer.certificate.subject, issuerKey: key, verifySignature: true)
            }
        }
        var good = spec
        good.extendedKeyUsage = [.clientAuth]
        #expect(throws: SigningError.releaseCheckFailed("the signature does not verify with the issuer's key")) {
            try ReleaseCheck.check(issued.entry.der, against: good, issuerName: signer.certificate.subject, issuerKey: root.publicKey, verifySignature: true)
        }
    }

    /// The same CRL made with OpenSSL's X509_CRL API, entries in the given order.
    static func openSSLCRL(issuer: [UInt8], key: PrivateKeyMaterial, entries: [RevokedEntry], thisUpdate: Int64, nextUpdate: Int64,
                           number: Int64) throws -> [UInt8] {
        let certificate = try #require(issuer.withUnsafeBufferPointer { buffer -> OpaquePointer? in
            var cursor = buffer.baseAddress
            return d2i_X509(nil, &cursor, buffer.count)
        })
        defer { X509_free(certificate) }
        let pkey = try #require(OpenSSL.privateKey(pkcs8DER: key.pkcs8DER))
        defer { EVP_PKEY_free(pkey) }
        let crl = try #require(X509_CRL_new())
        defer { X509_CRL_free(crl) }
        #expect(X509_CRL_set_version(crl, 1) == 1)
        #expect(X509_CRL_set_issuer_name(crl, X509_get_subject_name(certificate)) == 1)
        func time(_ seconds: Int64) -> UnsafeMutablePointer<ASN1_TIME>? { ASN1_TIME_set(nil, time_t(seconds)) }
        let last = time(thisUpdate), next = time(nextUpdate)
        defer { ASN1_TIME_free(last); ASN1_TIME_free(next) }
        #expect(X509_CRL_set1_lastUpdate(crl, last) == 1 && X509_CRL_set1_nextUpdate(crl, next) == 1)
        for entry in entries {
            let revoked = try #require(X509_REVOKED_new())
            let big = BN_bin2bn(entry.serial, Int32(entry.serial.count), nil)
            let serial = BN_to_ASN1_INTEGER(big, nil)
            BN_free(big)
            #expect(X509_REVOKED_set_serialNumber(revoked, serial) == 1)
            ASN1_INTEGER_free(serial)
            let at = time(entry.revokedAt)
            #expect(X509_REVOKED_set_revocationDate(revoked, at) == 1)
            ASN1_TIME_free(at)
            if entry.reason != .unspecified {
                let reason = ASN1_ENUMERATED_new()
                ASN1_ENUMERATED_set(reason, Int(entry.reason.code))
                #expect(X509_REVOKED_add1_ext_i2d(revoked, NID_crl_reason, UnsafeMutableRawPointer(reason), 0, 0) == 1)
                ASN1_ENUMERATED_free(reason)
            }
            if let invalidity = entry.invalidityDate {
                let generalized = ASN1_GENERALIZEDTIME_set(nil, time_t(invalidity))
                #expect(X509_REVOKED_add1_ext_i2d(revoked, NID_invalidity_date, UnsafeMutableRawPointer(generalized), 0, 0) == 1)
                ASN1_GENERALIZEDTIME_free(generalized)
            }
            #expect(X509_CRL_add0_revoked(crl, revoked) == 1)
        }
        // AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] }, as OpenSSL's v3 code writes it.
        let keyID = Array(try #require(try Certificate(derEncoded: issuer).extensions.subjectKeyIdentifier?.keyIdentifier))
        let akiDER: [UInt8] = [0x30, UInt8(keyID.count + 2), 0x80, UInt8(keyID.count)] + keyID
        let octets = ASN1_OCTET_STRING_new()
        ASN1_OCTET_STRING_set(octets, akiDER, Int32(akiDER.count))
        let aki = X509_EXTENSION_create_by_NID(nil, NID_authority_key_identifier, 0, octets)
        #expect(X509_CRL_add_ext(crl, aki, -1) == 1)
        X509_EXTENSION_free(aki)
        ASN1_OCTET_STRING_free(octets)
        let crlNumber = ASN1_INTEGER_new()
        ASN1_INTEGER_set_int64(crlNumber, number)
        #expect(X509_CRL_add1_ext_i2d(crl, NID_crl_number, UnsafeMutableRawPointer(crlNumber), 0, 0) == 1)
        ASN1_INTEGER_free(crlNumber)
        #expect(X509_CRL_sign(crl, pkey, nil) > 0)
        return try #require(OpenSSL.encode { i2d_X509_CRL(crl, $0) })
    }
}
