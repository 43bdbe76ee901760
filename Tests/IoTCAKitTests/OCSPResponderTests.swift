import Crypto
import Foundation
@testable import IoTCAKit
import Synchronization
import Testing
import TestSupport

/// The responder in-process, on an injected clock: requests built by hand (what clients other
/// than openssl send), the signer's renewal, the cache and its invalidation. Answers are read
/// back by `openssl ocsp`.
@Suite struct OCSPResponderTests {
    /// A CertID of `hash` for the certificate `serial` of `issuer` (DER of a CA certificate).
    static func certID(_ issuer: [UInt8], serial: [UInt8], hash: OCSPRequest.HashAlgorithm = .sha1) throws -> [UInt8] {
        let (name, bits) = try #require(OCSPResponder.subjectAndKeyBits(issuer))
        func digest(_ data: ArraySlice<UInt8>) -> [UInt8] {
            switch hash {
            case .sha1: Array(Insecure.SHA1.hash(data: data))
            case .sha256: Array(SHA256.hash(data: data))
            case .sha384: Array(SHA384.hash(data: data))
            case .sha512: Array(SHA512.hash(data: data))
            }
        }
        var writer = DERWriter()
        writer.element(0x30) { id in
            id.element(0x30) { $0.header(0x06, count: hash.oid.count); $0.append(hash.oid); $0.append([0x05, 0x00]) }
            let nameHash = digest(name), keyHash = digest(bits)
            id.header(0x04, count: nameHash.count); id.append(nameHash)
            id.header(0x04, count: keyHash.count); id.append(keyHash)
            id.unsignedInteger(serial)
        }
        return writer.bytes
    }

    /// An OCSPRequest of `ids`, with a nonce of `nonce` bytes when given.
    static func request(_ ids: [[UInt8]], nonce: Int? = nil, version: UInt8? = nil, trailing: [UInt8] = []) -> [UInt8] {
        var writer = DERWriter()
        writer.element(0x30) { request in
            request.element(0x30) { tbs in
                if let version { tbs.element(0xA0) { $0.append([0x02, 0x01, version]) } }
                tbs.element(0x30) { list in for id in ids { list.element(0x30) { $0.append(id) } } }
                if let nonce {
                    tbs.element(0xA2) { $0.element(0x30) { $0.element(0x30) { ext in
                        ext.append([0x06, 0x09] + OCSPRequest.nonceOID)
                        ext.element(0x04) { $0.header(0x04, count: nonce); $0.append([UInt8](repeating: 0xAB, count: nonce)) }
                    } } }
                }
            }
        }
        return writer.bytes + trailing
    }

    static func text(_ der: [UInt8], in folder: TemporaryFolder) throws -> String {
        let file = folder.appending("answer-\(UUID().uuidString).der")
        try Data(der).write(to: file)
        return try OpenSSLCLI.run(["ocsp", "-respin", file.path, "-resp_text", "-noverify"]).stdout
    }

    @Test func handBuiltRequestsAreAnsweredOrRefusedAsTheRFCsSay() throws {
        let fixture = try TemporaryStore(encrypted: false)
        let responder = OCSPResponder(keyring: fixture.keyring)
        let issuing = try #require(try fixture.store.authority(named: "issuing").certificateDER)
        let root = try #require(try fixture.store.authority(named: "root").certificateDER)
        let a = try fixture.issue(IssueRequest(thing: "a")), b = try fixture.issue(IssueRequest(thing: "b"))
        // SHA-256 CertIDs, two in one request, a 32-byte nonce: all answered and echoed.
        let both = [try Self.certID(issuing, serial: a.entry.serial.bytes, hash: .sha256), try Self.certID(issuing, serial: b.entry.serial.bytes, hash: .sha256)]
        let answer = responder.answer(Self.request(both, nonce: 32))
        #expect(answer.refusal == nil)
        let text = try Self.text(answer.der, in: fixture.folder)
        #expect(text.components(separatedBy: "Cert Status: good").count == 3, "\(text)")
        #expect(text.contains("OCSP Nonce"))
        #expect(answer.thisUpdate == nil)  // with a nonce: not for caches
        // Refused as malformedRequest: a 33-byte nonce, version v2, bytes after the request,
        // seventeen CertIDs, an unknown hash algorithm, nothing.
        let one = try Self.certID(issuing, serial: a.entry.serial.bytes)
        var unknownHash = one
        unknownHash[6] = 0x7F  // inside the SHA-1 OID
        for bad in [Self.request([one], nonce: 33), Self.request([one], version: 1), Self.request([one], trailing: [0]),
                    Self.request(Array(repeating: one, count: 17)), Self.request([unknownHash]), []] {
            let refused = responder.answer(bad)
            #expect(refused.der == [0x30, 0x03, 0x0A, 0x01, 0x01], "\(refused.refusal ?? "answered")")
        }
        // CertIDs of two CAs in one request: no one signer may vouch for both.
        let mixed = responder.answer(Self.request([one, try Self.certID(root, serial: [0x01])]))
        #expect(mixed.der == [0x30, 0x03, 0x0A, 0x01, 0x06])
    }

    @Test func cachedAnswersAreReusedUntilHalfTheirValidityOrARevocation() throws {
        let fixture = try TemporaryStore(encrypted: false)
        let responder = OCSPResponder(keyring: fixture.keyring, validity: 3_600)
        let issuing = try #require(try fixture.store.authority(named: "issuing").certificateDER)
        let device = try fixture.issue(IssueRequest(thing: "cached"))
        let request = Self.request([try Self.certID(issuing, serial: device.entry.serial.bytes)])
        let first = responder.answer(request)
        #expect(first.thisUpdate != nil && first.nextUpdate == first.thisUpdate.map { $0 + 3_600 })
        fixture.clock.advance(by: 1_700)
        #expect(responder.answer(request) == first)  // within half its validity: the same bytes
        fixture.clock.advance(by: 200)
        let fresh = responder.answer(request)
        #expect(fresh != first && fresh.thisUpdate == first.thisUpdate.map { $0 + 1_900 })
        // A revocation made elsewhere (another front door on the same store) is seen at once.
        _ = try CertificateAuthority(keyring: fixture.keyring).revoke(.thing("cached"), reason: .superseded)
        let revoked = try Self.text(responder.answer(request).der, in: fixture.folder)
        #expect(revoked.contains("Cert Status: revoked") && revoked.contains("Reason: superseded"), "\(revoked)")
        // `unknown` is never cached: the serial may be issued a moment later.
        let unknown = Self.request([try Self.certID(issuing, serial: [0x42])])
        #expect(try Self.text(responder.answer(unknown).der, in: fixture.folder).contains("Cert Status: unknown"))
    }

    @Test func theSignerIsRenewedBeforeItEndsAndAnswersNeverOutliveIt() throws {
        let fixture = try TemporaryStore(encrypted: false)
        let responder = OCSPResponder(keyring: fixture.keyring, validity: 3_600)
        let issuing = try #require(try fixture.store.authority(named: "issuing").certificateDER)
        let device = try fixture.issue(IssueRequest(thing: "long-lived"))
        let request = Self.request([try Self.certID(issuing, serial: device.entry.serial.bytes)], nonce: 8)
        func responderID(_ der: [UInt8]) throws -> String {
            let text = try Self.text(der, in: fixture.folder)
            return text.split(separator: "\n").first { $0.contains("Responder Id") }.map(String.init) ?? ""
        }
        let first = try responderID(responder.answer(request).der)
        fixture.clock.advance(by: OCSPSigner.validity - OCSPSigner.renewWhenLeft - 60)
        #expect(try responderID(responder.answer(request).der) == first)
        fixture.clock.advance(by: 120)  // less than a day left: a new signer
        let second = try responderID(responder.answer(request).der)
        #expect(second != first && !second.isEmpty)
        var all = CertificateFilter()
        all.includeAuthorities = true
        let signers = try fixture.store.certificates(all).filter { $0.template == "ocsp-signer" }
        #expect(signers.count == 2)
        // Three days, plus the five minutes every notBefore is backdated for clocks behind ours.
        for signer in signers { #expect(signer.notAfter.timeIntervalSince(signer.notBefore) == OCSPSigner.validity + 300) }
    }

    /// Many first requests at once (the router's threads and the event loops): one signer is
    /// certified and recorded, every answer is signed by it.
    @Test func concurrentFirstRequestsCertifyOneSigner() throws {
        let fixture = try TemporaryStore(encrypted: false)
        let responder = OCSPResponder(keyring: fixture.keyring)
        let issuing = try #require(try fixture.store.authority(named: "issuing").certificateDER)
        let issued = try fixture.issue(IssueRequest(thing: "dev-1"))
        let request = Self.request([try Self.certID(issuing, serial: issued.entry.serial.bytes)], nonce: 16)
        let answers = Mutex<[OCSPResponder.Answer]>([])
        DispatchQueue.concurrentPerform(iterations: 8) { index in
            // Half as the router asks, half as the event loop does (no certifying of its own).
            let answer = index % 2 == 0 ? responder.answer(request) : responder.answer(request, quickOnly: true)
            if let answer { answers.withLock { $0.append(answer) } }
        }
        let made = answers.withLock { $0 }
        #expect(made.count >= 4 && made.allSatisfy { $0.refusal == nil })
        var all = CertificateFilter()
        all.includeAuthorities = true
        #expect(try fixture.store.certificates(all).filter { $0.template == "ocsp-signer" }.count == 1)
        #expect(try Self.text(made[0].der, in: fixture.folder).contains("Cert Status: good"))
    }
}
