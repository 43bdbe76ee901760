import Crypto
import Foundation
@_spi(Fuzzing) @testable import IoTCAKit
import Testing
import TestSupport
import X509

/// Matter attestation in the library: what a Matter store signs, and every request outside the
/// profile refused with its rule named and nothing recorded. The DER-level checks against
/// OpenSSL and pkilint are in `MatterInteropTests`.
@Suite struct MatterPolicyTests {
    static func matterStore(product: UInt16? = 0x8000, publicURL: String? = nil) throws -> TemporaryStore {
        try TemporaryStore(encrypted: false, organization: "Acme", publicURL: publicURL,
                           matter: MatterIdentity(vendorID: MatterID(0xFFF1), productID: product.map(MatterID.init)))
    }

    /// A CSR made by OpenSSL for a key of `algorithm` (`-newkey` arguments).
    static func csr(_ newKey: [String], in folder: TemporaryFolder) throws -> [UInt8] {
        let path = folder.path("request-\(UUID().uuidString).csr")
        let result = try OpenSSLCLI.run(["req", "-new"] + newKey + ["-nodes", "-keyout", path + ".key", "-out", path, "-subj", "/CN=x"])
        #expect(result.succeeded, "\(result.stderr)")
        return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    static func refusal(_ body: () throws -> Void) -> String {
        do { try body() } catch { return "\(error)" }
        return "accepted"
    }

    @Test func aMatterStoreIsAPAAOverAPAIAndIssuesDACsInsideTheProfile() throws {
        let fixture = try Self.matterStore()
        let root = try fixture.store.authority(named: "root"), issuing = try fixture.store.authority(named: "issuing")
        #expect(root.subject.contains("CN=Acme PAA") && issuing.subject.contains("CN=Acme PAI issuing"))
        let paa = try #require(root.certificateDER), pai = try #require(issuing.certificateDER)
        #expect(try MatterProfileCheck.check(paa, as: .paa) == MatterIdentity(vendorID: MatterID(0xFFF1)))
        #expect(try MatterProfileCheck.check(pai, as: .pai) == MatterIdentity(vendorID: MatterID(0xFFF1), productID: MatterID(0x8000)))
        // The product ID comes from the PAI when the request names none; either case is taken.
        let first = try fixture.provisioner.issue(IssueRequest(thing: "light-1", template: "matter-dac"), bundleParent: fixture.bundles, format: .matter)
        let second = try fixture.provisioner.issue(IssueRequest(thing: "light-2", template: "matter-dac", attributes: ["vid": "fff1", "pid": "8000"]),
                                                   bundleParent: fixture.bundles, format: .matter)
        for result in [first, second] {
            try MatterProfileCheck.checkChain(dac: result.entry.der, pai: pai, paa: paa, productID: MatterID(0x8000))
            #expect(result.entry.der.count <= MatterProfileCheck.maximumDERLength)
            #expect(result.entry.notAfter == IssuancePolicy.noWellDefinedExpiration)
            #expect(result.bundle.manifest.files == ["dac_cert.der", "dac_key.der", "pai_cert.der", "paa_cert.der", "manifest.json"])
        }
        let folder = first.folder
        #expect(Array(try Data(contentsOf: folder.appendingPathComponent("dac_cert.der"))) == first.entry.der)
        #expect(Array(try Data(contentsOf: folder.appendingPathComponent("pai_cert.der"))) == pai)
        #expect(Array(try Data(contentsOf: folder.appendingPathComponent("paa_cert.der"))) == paa)
        // The key file is SEC1 for the certificate's key.
        let keyDER = Array(try Data(contentsOf: folder.appendingPathComponent("dac_key.der")))
        #expect(keyDER.count == 121 && keyDER.prefix(7) == [0x30, 0x77, 0x02, 0x01, 0x01, 0x04, 0x20])
        let key = try P256.Signing.PrivateKey(derRepresentation: keyDER)
        #expect(Certificate.PublicKey(key.publicKey) == (try Certificate(derEncoded: first.entry.der)).publicKey)
        let attributes = try FileManager.default.attributesOfItem(atPath: folder.appendingPathComponent("dac_key.der").path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
    }

    @Test func requestsOutsideTheProfileAreRefusedWithTheRuleNamedAndNothingRecorded() throws {
        let fixture = try Self.matterStore()
        let manager = AuthorityManager(keyring: fixture.keyring)
        func dac(_ thing: String, _ attributes: [String: String] = [:], csr: [UInt8]? = nil, format: BundleFormat = .matter) -> String {
            Self.refusal {
                _ = try fixture.provisioner.issue(IssueRequest(thing: thing, template: "matter-dac", attributes: attributes, csr: csr),
                                                  bundleParent: fixture.bundles, format: format)
            }
        }
        #expect(dac("d-1", ["vid": "FFF2"]).contains("vendor ID FFF2 differs from FFF1"))
        #expect(dac("d-2", ["pid": "8001"]).contains("product ID 8001 differs from 8000"))
        #expect(dac("d-3", ["pid": "80001"]).contains("four hexadecimal digits"))
        #expect(dac("d-4", ["vid": "FFG1"]).contains("four hexadecimal digits"))
        #expect(dac("d-5", csr: try Self.csr(["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384"], in: fixture.folder)).contains("ec-p384 is not allowed by template matter-dac"))
        #expect(dac("d-6", csr: try Self.csr(["-newkey", "rsa:2048"], in: fixture.folder)).contains("not allowed by template matter-dac"))
        #expect(Self.refusal {
            _ = try fixture.provisioner.issue(IssueRequest(thing: "d-7", authority: "root", template: "matter-dac"), bundleParent: fixture.bundles, format: .matter)
        }.contains("root CA"))
        #expect(Self.refusal {
            _ = try fixture.provisioner.issue(IssueRequest(thing: "d-8"), bundleParent: fixture.bundles, format: .matter)
        }.contains("matter-dac"))
        var withDeclaration = IssueRequest(thing: "d-9", template: "matter-dac")
        withDeclaration.certificationDeclaration = Array("not a CMS blob".utf8)
        #expect(Self.refusal { _ = try fixture.provisioner.issue(withDeclaration, bundleParent: fixture.bundles, format: .matter) }
            .contains("CMS SignedData"))
        #expect(Self.refusal { _ = try fixture.provisioner.issue(withDeclaration, bundleParent: fixture.bundles, format: .dir) }
            .contains("only the matter format"))

        // CAs: a PAI's key, its vendor, a PAI under a PAI, IDs on a template that is not Matter's.
        #expect(Self.refusal { try manager.createSubordinate("pai-rsa", parent: "root", keyType: .rsa2048, template: "matter-pai", attributes: ["vid": "FFF1"]) }
            .contains("a PAI certifies an EC P-256 key, not rsa-2048"))
        #expect(Self.refusal { try manager.createSubordinate("pai-other", parent: "root", template: "matter-pai", attributes: ["vid": "FFF2"]) }
            .contains("vendor ID FFF2 differs from FFF1"))
        #expect(Self.refusal { try manager.createSubordinate("pai-under-pai", parent: "issuing", template: "matter-pai", attributes: ["vid": "FFF1"]) }
            .contains("pathLength is 0"))
        #expect(Self.refusal { try manager.createSubordinate("plain", parent: "root", attributes: ["vid": "FFF1"]) }
            .contains("Matter template"))

        // Larger than 600 bytes of DER: long URLs on the PAI push its DACs over.
        let long = "http://pki.example.com/" + String(repeating: "a", count: 120)
        _ = try manager.updateSettings(of: "issuing", crlURL: long + ".crl", ocspURL: long + "/ocsp")
        #expect(dac("d-10").contains("at most 600"))

        for thing in (1...10).map({ "d-\($0)" }) {
            #expect(try fixture.store.certificates(CertificateFilter(thing: thing, status: nil)).isEmpty)
            #expect(!FileManager.default.fileExists(atPath: fixture.bundles.appendingPathComponent(thing).path))
        }
        for name in ["pai-rsa", "pai-other", "pai-under-pai", "plain"] {
            #expect((try? fixture.store.authority(named: name)) == nil)
        }
        let keyFiles = try FileManager.default.contentsOfDirectory(atPath: fixture.folder.path("store/keys"))
        #expect(!keyFiles.contains { $0.contains("pai-") || $0.contains("plain") }, "\(keyFiles)")
    }

    @Test func aPAIWithoutAProductIDTakesTheRequestsAndDemandsOne() throws {
        let fixture = try Self.matterStore(product: nil)
        let issuing = try fixture.store.authority(named: "issuing")
        let pai = try #require(issuing.certificateDER)
        #expect(try MatterProfileCheck.check(pai, as: .pai) == MatterIdentity(vendorID: MatterID(0xFFF1)))
        #expect(Self.refusal {
            _ = try fixture.provisioner.issue(IssueRequest(thing: "lamp-0", template: "matter-dac"), bundleParent: fixture.bundles, format: .matter)
        }.contains("a DAC carries a product ID"))
        let lamp = try fixture.provisioner.issue(IssueRequest(thing: "lamp-1", template: "matter-dac", attributes: ["pid": "8005"]),
                                                 bundleParent: fixture.bundles, format: .matter)
        #expect(try MatterProfileCheck.check(lamp.entry.der, as: .dac) == MatterIdentity(vendorID: MatterID(0xFFF1), productID: MatterID(0x8005)))
        // A second PAI for one product, under the same PAA.
        try AuthorityManager(keyring: fixture.keyring).createSubordinate("pai-8006", parent: "root", template: "matter-pai",
                                                                          attributes: ["vid": "FFF1", "pid": "8006"])
        let plug = try fixture.provisioner.issue(IssueRequest(thing: "plug-1", authority: "pai-8006", template: "matter-dac"),
                                                 bundleParent: fixture.bundles, format: .matter)
        #expect(try MatterProfileCheck.check(plug.entry.der, as: .dac).productID == MatterID(0x8006))
    }

    @Test func templatesThatCannotMeetTheProfileAreRefusedWhenRead() throws {
        func parse(_ changes: [String: Any]) -> String {
            var fields: [String: Any] = ["name": "t", "keyType": "ec-p256", "validity": "forever", "subject": ["commonName": "{{thing}}"],
                                         "keyUsage": ["digitalSignature"], "ca": false, "matter": "dac"]
            fields.merge(changes) { _, new in new }
            return Self.refusal { _ = try Template.parse(try JSONSerialization.data(withJSONObject: fields), source: "t.json") }
        }
        #expect(parse([:]) == "accepted")
        #expect(parse(["keyType": "ec-p384"]).contains("EC P-256"))
        #expect(parse(["allowedKeyTypes": ["ec-p256", "rsa-2048"]]).contains("EC P-256"))
        #expect(parse(["keyUsage": ["digitalSignature", "keyAgreement"]]).contains("digitalSignature alone"))
        #expect(parse(["matter": "pai", "ca": true, "keyUsage": ["keyCertSign", "cRLSign"], "pathLength": 1]).contains("path length 0"))
        #expect(parse(["matter": "paa", "ca": true, "keyUsage": ["keyCertSign"]]).contains("cRLSign"))
        #expect(parse(["matter": "dev"]).contains("matter"))
        #expect(parse(["validity": "never"]).contains("forever"))
    }

    @Test func aStoreProfileThatCannotBeMatterIsRefusedBeforeAnythingIsMade() throws {
        let folder = TemporaryFolder()
        var options = StoreInitializer.Options(organization: "Acme", keyType: .ecP384, passphrase: nil)
        options.matter = MatterIdentity(vendorID: MatterID(0xFFF1))
        #expect(Self.refusal { _ = try StoreInitializer.initialize(at: folder.appending("s"), options: options) }.contains("EC P-256"))
        options.keyType = .ecP256
        options.matter = MatterIdentity(productID: MatterID(0x8000))
        #expect(Self.refusal { _ = try StoreInitializer.initialize(at: folder.appending("s"), options: options) }.contains("vendor ID"))
        #expect(!FileManager.default.fileExists(atPath: folder.path("s")))
    }

    @Test func theRevocationSetListsThePAIsCRLAsTheSDKReadsIt() throws {
        let fixture = try Self.matterStore()
        let revoked = try fixture.provisioner.issue(IssueRequest(thing: "light-1", template: "matter-dac"), bundleParent: fixture.bundles, format: .matter)
        _ = try fixture.provisioner.issue(IssueRequest(thing: "light-2", template: "matter-dac"), bundleParent: fixture.bundles, format: .matter)
        let authority = CertificateAuthority(keyring: fixture.keyring)
        #expect(Self.refusal { _ = try authority.matterRevocationSet(of: "issuing") }.contains("has published no CRL"))
        _ = try authority.revoke(.serial(revoked.entry.serial, authority: nil), reason: .keyCompromise)
        _ = try authority.publishCRLs(of: ["issuing"])
        let set = try authority.matterRevocationSet(of: "issuing")
        let entries = try #require(try JSONSerialization.jsonObject(with: Data(set)) as? [[String: Any]])
        #expect(entries.count == 1)
        let entry = try #require(entries.first)
        let issuing = try fixture.store.authority(named: "issuing")
        let pai = try Certificate(derEncoded: try #require(issuing.certificateDER))
        let dac = try Certificate(derEncoded: revoked.entry.der)
        #expect(entry["type"] as? String == "revocation_set")
        let keyID = try #require(try pai.extensions.subjectKeyIdentifier?.keyIdentifier)
        #expect(entry["issuer_subject_key_id"] as? String == Array(keyID).hexString.uppercased())
        #expect(entry["revoked_serial_numbers"] as? [String] == [MatterRevocationSet.magnitude(dac.serialNumber.bytes[...]).hexString.uppercased()])
        let nameText = try #require(entry["issuer_name"] as? String), signerText = try #require(entry["crl_signer_cert"] as? String)
        let name = try #require(Data(base64Encoded: nameText)), signer = try #require(Data(base64Encoded: signerText))
        #expect(try DistinguishedName(derEncoded: Array(name)) == dac.issuer)
        #expect(Array(signer) == (try fixture.store.authority(named: "issuing").certificateDER))
    }

    @Test func aTestSetIsMarkedAsTestAndTakesOnlyTestVendorIDs() throws {
        let folder = TemporaryFolder()
        #expect(Self.refusal { _ = try MatterTestSet.make(in: folder.appending("a"), vendorID: MatterID(0x1234), productID: MatterID(0x8000), count: 1) }
            .contains("test vendor ID"))
        let result = try MatterTestSet.make(in: folder.appending("b"), vendorID: MatterID(0xFFF2), productID: MatterID(0x8001), count: 3)
        #expect(result.bundles.count == 3)
        let store = try Store.open(result.store)
        defer { try? store.close() }
        let root = try store.authority(named: "root"), issuing = try store.authority(named: "issuing")
        let paa = try #require(root.certificateDER), pai = try #require(issuing.certificateDER)
        #expect(try Certificate(derEncoded: paa).subject.description.contains("CN=Matter Test PAA"))
        for bundle in result.bundles {
            let dac = Array(try Data(contentsOf: bundle.appendingPathComponent("dac_cert.der")))
            try MatterProfileCheck.checkChain(dac: dac, pai: pai, paa: paa, productID: MatterID(0x8001))
        }
        #expect(try String(contentsOf: folder.appending("b/README.txt"), encoding: .utf8).hasPrefix("TEST ONLY"))
    }

    @Test func onlyAPAIIssuesDACsAndAPAIIssuesNothingElse() throws {
        let matter = try Self.matterStore()
        // A device certificate from a PAI could carry Mvid:/Mpid: in its name and pass for a DAC.
        #expect(Self.refusal { try matter.issue(IssueRequest(thing: "line1-Mvid:FFF1_Mpid:8001")) }
            .contains("a Matter CA signs only Matter certificates"))
        #expect(Self.refusal { try AuthorityManager(keyring: matter.keyring).createSubordinate("plain", parent: "root") }
            .contains("a Matter CA signs only Matter certificates"))
        #expect(Self.refusal { try matter.issue(IssueRequest(thing: "x", template: "matter-dac", attributes: ["PID": "8001"])) }
            .contains("in lower case"))
        #expect(Self.refusal { try matter.issue(IssueRequest(thing: "x", template: "matter-dac", attributes: ["pid": "0000"])) }
            .contains("reserved"))
        // A PAA is not rotated, and a Matter CA is not certified outside the store.
        let manager = AuthorityManager(keyring: matter.keyring)
        #expect(try matter.store.standbyKeys().isEmpty)
        #expect(Self.refusal { _ = try manager.rotateRoot() }.contains("a PAA is not rotated"))
        #expect(Self.refusal { _ = try manager.createStandbyKey(.ecP256) }.contains("a PAA is not rotated"))
        #expect(Self.refusal { _ = try manager.createExternal("offline-pai", template: "matter-pai") }.contains("not supported"))

        // In a store that is not Matter's, a CA with the right path length is still no PAI.
        let plain = try TemporaryStore(encrypted: false)
        #expect(Self.refusal {
            _ = try plain.provisioner.issue(IssueRequest(thing: "x", template: "matter-dac", attributes: ["vid": "1234", "pid": "0001"]),
                                            bundleParent: plain.bundles, format: .matter)
        }.contains("a DAC is issued by a PAI, and its CA is not one"))
        #expect(try plain.store.certificates(CertificateFilter(thing: "x", status: nil)).isEmpty)
        // A plain P-256 root meets the PAA profile (a PAA without a vendor ID); an RSA root does not.
        try AuthorityManager(keyring: plain.keyring).createSubordinate("pai", parent: "root", template: "matter-pai", attributes: ["vid": "FFF1"])
        let rsa = try TemporaryStore(keyType: .rsa2048, encrypted: false)
        #expect(Self.refusal {
            try AuthorityManager(keyring: rsa.keyring).createSubordinate("pai", parent: "root", keyType: .ecP256, template: "matter-pai",
                                                                       attributes: ["vid": "FFF1"])
        }.contains("a PAI is certified by a PAA, and its CA is not one (PAA: the signature must be ecdsa-with-SHA256)"))
    }

    @Test func batchRowsGiveMatterIDsAsStringsAndForeverIsForMatterTemplates() throws {
        let (rows, errors) = BatchFile.jsonLines(#"""
            {"thing": "a", "pid": "8000"}
            {"thing": "b", "pid": 4097}
            {"thing": "c", "attributes": {"vid": 65521}}
            """#)
        #expect(rows.map(\.thing) == ["a"])
        #expect(errors.map(\.thing) == ["b", "c"] && errors.allSatisfy { $0.error.contains("not a JSON number") })
        let fields: [String: Any] = ["name": "t", "keyType": "ec-p256", "validity": "forever", "subject": ["commonName": "{{thing}}"],
                                     "keyUsage": ["digitalSignature"], "ca": false]
        #expect(Self.refusal { _ = try Template.parse(try JSONSerialization.data(withJSONObject: fields), source: "t.json") }
            .contains("for Matter attestation templates"))
    }

    @Test func aCRLsRevokedSerialsAreFoundWithAndWithoutNextUpdate() throws {
        let time: [UInt8] = [0x17, 0x0D] + Array("261206000000Z".utf8)
        let entries: [UInt8] = [0x30, 0x14, 0x30, 0x12, 0x02, 0x01, 0x0A] + time  // one entry, serial 0x0A
        func crl(_ tbsFields: [UInt8]) -> [UInt8] {
            let algorithm: [UInt8] = [0x30, 0x0A, 0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x03, 0x02]
            let tbs: [UInt8] = [0x30, UInt8(tbsFields.count)] + tbsFields
            let body = tbs + algorithm + [0x03, 0x01, 0x00]
            return [0x30, UInt8(body.count)] + body
        }
        let head: [UInt8] = [0x02, 0x01, 0x01, 0x30, 0x0A, 0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x03, 0x02, 0x30, 0x00] + time
        #expect(MatterRevocationSet.revokedSerials(inCRL: crl(head + time + entries))?.map(Array.init) == [[0x0A]])
        #expect(MatterRevocationSet.revokedSerials(inCRL: crl(head + entries))?.map(Array.init) == [[0x0A]])
        #expect(MatterRevocationSet.revokedSerials(inCRL: crl(head + time))?.isEmpty == true)
        #expect(MatterRevocationSet.revokedSerials(inCRL: [0x30, 0x03, 0x30, 0x01]) == nil)
        #expect(MatterRevocationSet.magnitude([0x00, 0x80, 0x01][...]) == [0x80, 0x01])
    }

    @Test func aPAIAnswersOCSPForItsDACsThroughAResponderOfItsOwn() throws {
        let fixture = try Self.matterStore()
        let dac = try fixture.provisioner.issue(IssueRequest(thing: "light-1", template: "matter-dac"), bundleParent: fixture.bundles, format: .matter)
        let issuing = try fixture.store.authority(named: "issuing")
        let pai = try #require(issuing.certificateDER)
        let answer = OCSPResponder(keyring: fixture.keyring)
            .answer(OCSPResponderTests.request([try OCSPResponderTests.certID(pai, serial: dac.entry.serial.bytes)], nonce: 16))
        #expect(answer.refusal == nil)
        #expect(try OCSPResponderTests.text(answer.der, in: fixture.folder).contains("Cert Status: good"))
    }

    /// A factory line's batch in the matter format, killed or blocked half-way and run again: a
    /// DAC whose files reached the disk is kept, one recorded and never written is issued again
    /// and the stranded one revoked, nothing issued twice.
    @Test func aMatterBatchRunTwiceResumesWhereItStopped() throws {
        let fixture = try Self.matterStore()
        let file = fixture.folder.appending("line.csv")
        try Data("thing,pid\nd-1,8000\nd-2,8000\n".utf8).write(to: file)
        let out = fixture.folder.appending("line")
        try FileManager.default.createDirectory(at: out.appendingPathComponent("d-2"), withIntermediateDirectories: true)
        try Data("in the way".utf8).write(to: out.appendingPathComponent("d-2/blocker"))
        var options = BatchOptions()
        options.template = "matter-dac"
        options.format = .matter
        let runner = BatchRunner(keyring: fixture.keyring)
        let first = try runner.run(file: file, out: out, options: options)
        #expect(first.issued == 1 && first.failed == 1)
        let written = try #require(try fixture.store.certificates(CertificateFilter(thing: "d-1")).first)
        let stranded = try #require(try fixture.store.certificates(CertificateFilter(thing: "d-2")).first)
        #expect(stranded.delivery == .recorded)
        // As if killed after d-1's files reached the disk and before the store said so.
        try fixture.store.setDelivery(.recorded, thing: "d-1", serial: written.serial)
        try FileManager.default.removeItem(at: out.appendingPathComponent("d-2"))
        let again = try runner.run(file: file, out: out, options: options)
        #expect(again.skipped == 1 && again.recovered == 1 && again.failed == 0)
        #expect(try fixture.store.certificates(CertificateFilter(status: .revoked)).map(\.serial) == [stranded.serial])
        let paa = try #require(try fixture.store.authority(named: "root").certificateDER)
        let pai = try #require(try fixture.store.authority(named: "issuing").certificateDER)
        for thing in ["d-1", "d-2"] {
            let dac = Array(try Data(contentsOf: out.appendingPathComponent("\(thing)/dac_cert.der")))
            try MatterProfileCheck.checkChain(dac: dac, pai: pai, paa: paa)
            let active = try fixture.store.certificates(CertificateFilter(thing: thing, status: .active))
            #expect(active.map(\.der) == [dac] && active.first?.delivery == .written)
        }
        #expect(Array(try Data(contentsOf: out.appendingPathComponent("d-1/dac_cert.der"))) == written.der)
    }
}
