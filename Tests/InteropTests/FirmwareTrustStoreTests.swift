import Foundation
@testable import IoTCAKit
import SwiftASN1
import Synchronization
import Testing
import TestSupport
import X509

/// `iotca trust-store` checked by the stacks firmware runs: Debian's mbedTLS and wolfSSL compile
/// the exported header (`-std=c99 -Wall -Wextra -Werror`) and verify chains with it; the ESP-IDF
/// bundle is read by a parser written here from ESP-IDF's documented layouts.
@Suite struct FirmwareTrustStoreTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/firmware")

    /// A verifier built against the anchors in `folder` (trust.h, and zephyr_anchors.h with `zephyr`).
    struct Verifier {
        let mbedtls: String
        let wolfssl: String

        init(anchorsIn folder: URL, zephyr: Bool = false) throws {
            mbedtls = folder.appendingPathComponent("verify_mbedtls").path
            wolfssl = folder.appendingPathComponent("verify_wolfssl").path
            let flags = ["-std=c99", "-Wall", "-Wextra", "-Werror", "-I", folder.path] + (zephyr ? ["-I", folder.appendingPathComponent("zephyr").path, "-DIOTCA_ZEPHYR"] : [])
            for (source, output, libraries) in [("verify_mbedtls.c", mbedtls, ["-lmbedx509", "-lmbedcrypto"]), ("verify_wolfssl.c", wolfssl, ["-lwolfssl"])] {
                let compiled = try ProcessRunner.run("/usr/bin/cc", flags + ["-o", output, FirmwareTrustStoreTests.fixtures.appendingPathComponent(source).path] + libraries)
                #expect(compiled.succeeded, "\(source): \(compiled.stderr)")
            }
        }

        /// mbedTLS's exit status for `leaf` with `chain` under the anchors read as `mode`.
        func mbedTLS(_ mode: String, _ bundle: URL) throws -> Int32 {
            let result = try ProcessRunner.run(mbedtls, [mode, bundle.appendingPathComponent("cert.pem").path, bundle.appendingPathComponent("chain.pem").path])
            return result.status
        }

        func wolfSSL(_ bundle: URL) throws -> Int32 {
            try ProcessRunner.run(wolfssl, [bundle.appendingPathComponent("cert.pem").path, bundle.appendingPathComponent("chain.pem").path]).status
        }
    }

    static func export(_ fixture: TemporaryStore, _ format: String, to out: URL, extra: [String] = []) throws -> [TrustAnchor] {
        let anchors = try TrustStore.anchors(of: fixture.store, extra: extra, now: fixture.clock.now)
        try TrustStore.write(try TrustStore.render(anchors, as: try TrustStoreFormat(name: format)), to: out, asFolder: format == "zephyr")
        return anchors
    }

    /// zephyr_anchors.h: every NAME.der.inc of the export, included as Zephyr's README says.
    static func zephyrTable(_ folder: URL) throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".der.inc") }.sorted()
        var text = "#include <stddef.h>\n"
        for (index, file) in files.enumerated() { text += "static const unsigned char anchor_\(index)[] = {\n#include \"\(file)\"\n};\n" }
        text += "#define ZEPHYR_ANCHOR_COUNT \(files.count)\nstatic const struct { const unsigned char *der; size_t len; } zephyr_anchors[] = {\n"
        text += files.indices.map { "    { anchor_\($0), sizeof anchor_\($0) }" }.joined(separator: ",\n") + "\n};\n"
        try Data(text.utf8).write(to: folder.appendingPathComponent("zephyr_anchors.h"))
    }

    @Test func mbedTLSAndWolfSSLVerifyThisStoresChainsAndRefuseAnotherStores() throws {
        let fixture = try TemporaryStore()
        let other = try TemporaryStore(organization: "Other Fleet")
        let server = try fixture.issue(IssueRequest(thing: "mqtt.example.com", template: "server"))
        let device = try fixture.issue(IssueRequest(thing: "device-42"))
        let foreign = try other.issue(IssueRequest(thing: "mqtt.example.com", template: "server"))
        let work = fixture.folder.appending("firmware")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        let anchors = try Self.export(fixture, "c", to: work.appendingPathComponent("trust.h"))
        #expect(anchors.map(\.name) == ["root", "root-2"] && anchors.map(\.role) == [.root, .nextRoot])
        _ = try Self.export(fixture, "zephyr", to: work.appendingPathComponent("zephyr"))
        try Self.zephyrTable(work.appendingPathComponent("zephyr"))
        let verifier = try Verifier(anchorsIn: work, zephyr: true)
        for bundle in [server.folder, device.folder] {
            for mode in ["pem", "der", "zephyr"] { #expect(try verifier.mbedTLS(mode, bundle) == 0, "\(mode) \(bundle.lastPathComponent)") }
            #expect(try verifier.wolfSSL(bundle) == 0)
        }
        for mode in ["pem", "der", "zephyr"] { #expect(try verifier.mbedTLS(mode, foreign.folder) == 2, "\(mode) took another store's chain") }
        #expect(try verifier.wolfSSL(foreign.folder) == 2)
        // The PEM export is the same anchors, and OpenSSL agrees.
        let pem = work.appendingPathComponent("anchors.pem")
        _ = try Self.export(fixture, "pem", to: pem)
        let verified = try OpenSSLCLI.run(["verify", "-x509_strict", "-CAfile", pem.path, "-untrusted",
                                           server.folder.appendingPathComponent("chain.pem").path, server.folder.appendingPathComponent("cert.pem").path])
        #expect(verified.succeeded, "\(verified.stdout)\(verified.stderr)")
    }

    @Test func firmwareBuiltBeforeTheRotationTrustsTheNewRootAndItsIssuingCA() throws {
        let fixture = try TemporaryStore()
        let work = fixture.folder.appending("firmware")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        let before = try Self.export(fixture, "c", to: work.appendingPathComponent("trust.h"))
        let verifier = try Verifier(anchorsIn: work)
        let manager = AuthorityManager(keyring: fixture.keyring)
        let premade = try #require(before.first { $0.role == .nextRoot })
        // The pre-made certificate is lint clean and verifies as a root by itself.
        let premadePath = fixture.folder.path("root-2.pem")
        try Data(IssuedCertificate.pem(premade.der).utf8).write(to: URL(fileURLWithPath: premadePath))
        #expect(try LintTests.lintCertificate(premadePath) == "")
        #expect(try OpenSSLCLI.run(["verify", "-x509_strict", "-CAfile", premadePath, premadePath]).succeeded)

        // (No clock moved: mbedTLS and wolfSSL check validity against the machine's time.)
        #expect(throws: AuthorityError.self) { try manager.rotateRoot(validity: try ValidityPeriod("5y")) }
        let (root, next) = try manager.rotateRoot()
        #expect(root.name == "root-2" && root.certificateDER == premade.der, "rotate-root made another certificate than firmware holds")
        #expect(next.name == "root-3" && next.certificateDER != nil)
        try manager.createSubordinate("issuing-2", parent: "root-2")
        let server = try fixture.issue(IssueRequest(thing: "mqtt.example.com", authority: "issuing-2", template: "server"))
        let device = try fixture.issue(IssueRequest(thing: "device-43", authority: "issuing-2"))
        for bundle in [server.folder, device.folder] {
            #expect(try verifier.mbedTLS("pem", bundle) == 0 && verifier.mbedTLS("der", bundle) == 0)
            #expect(try verifier.wolfSSL(bundle) == 0)
        }
        #expect(try Doctor(store: fixture.store, keyring: fixture.keyring).examine().findings.filter { $0.check != "kdf" }.isEmpty)
        // After the rotation the export carries both roots and the next one.
        let after = try TrustStore.anchors(of: fixture.store, now: fixture.clock.now)
        #expect(after.map(\.name) == ["root", "root-2", "root-3"] && after.map(\.role) == [.root, .root, .nextRoot])
    }

    @Test func anOlderStoreGetsItsNextRootCertifiedOnceAndDoctorSaysSoUntilThen() throws {
        let fixture = try TemporaryStore()
        _ = try fixture.store.write { db in try db.execute("UPDATE standby_keys SET certificate_der = NULL") }
        // (The fixture's fast test KDF is a finding of its own: only next-root findings count here.)
        let findings = try Doctor(store: fixture.store, keyring: fixture.keyring).examine().findings.filter { $0.check == "next-root" }
        #expect(findings.count == 1 && findings.first?.problem.contains("prepare-root") == true)
        #expect(throws: TrustStoreError.nextRootUncertified("root-2")) { try TrustStore.anchors(of: fixture.store, now: fixture.clock.now) }
        let manager = AuthorityManager(keyring: fixture.keyring)
        let first = try manager.prepareNextRoots()
        let again = try manager.prepareNextRoots()
        #expect(first.count == 1 && first.first?.certificateDER != nil && first == again, "a second run must keep the first certificate")
        #expect(try Doctor(store: fixture.store, keyring: fixture.keyring).examine().findings.filter { $0.check == "next-root" }.isEmpty)
        let (root, _) = try manager.rotateRoot()
        #expect(root.certificateDER == first.first?.certificateDER)
        #expect(try fixture.store.events().filter { $0.action == "key.standby.certified" }.count == 1)
    }

    /// Two `prepare-root` at once on an older store: one certificate is recorded, both get it.
    @Test func twoPreparationsAtOnceRecordOneCertificate() throws {
        let fixture = try TemporaryStore()
        _ = try fixture.store.write { db in try db.execute("UPDATE standby_keys SET certificate_der = NULL") }
        let results = Mutex<[[UInt8]?]>([])
        DispatchQueue.concurrentPerform(iterations: 2) { _ in
            let prepared = try? AuthorityManager(keyring: fixture.keyring).prepareNextRoots().first?.certificateDER
            results.withLock { $0.append(prepared) }
        }
        let both = results.withLock { $0 }
        #expect(both.count == 2 && both[0] != nil && both[0] == both[1])
        #expect(try fixture.store.standbyKeys().first?.certificateDER == both[0])
        #expect(try fixture.store.events().filter { $0.action == "key.standby.certified" }.count == 1)
    }

    @Test(arguments: [("5.3", ESPCertificateBundle.Layout.countPrefixed), ("v5.4.1", .offsetTable), ("4.4", .countPrefixed), ("6.0", .offsetTable)])
    func espBundlesHoldEachAnchorSortedAndFindTheIssuer(version: String, layout: ESPCertificateBundle.Layout) throws {
        let fixture = try TemporaryStore()
        let manager = AuthorityManager(keyring: fixture.keyring)
        _ = try manager.rotateRoot()
        let anchors = try TrustStore.anchors(of: fixture.store, extra: ["service-root"], now: fixture.clock.now)
        let format = try TrustStoreFormat(name: "esp-crt-bundle", idfVersion: version)
        #expect(format == .espCertificateBundle(layout))
        let out = fixture.folder.appending("x509_crt_bundle")
        try TrustStore.write(try TrustStore.render(anchors, as: format), to: out, asFolder: false)
        let entries = try ESPBundleReader.read(Array(try Data(contentsOf: out)), layout: layout)
        #expect(entries.count == anchors.count)
        #expect(entries.map(\.name) == entries.map(\.name).sorted { $0.lexicographicallyPrecedes($1) })
        // As esp_crt_bundle.c does: find the issuing CA's issuer by subject, verify with its key.
        let issuing = try Certificate(derEncoded: try #require(try fixture.store.authority(named: "issuing").certificateDER))
        var issuer = DER.Serializer()
        try issuer.serialize(issuing.issuer)
        let found = try #require(entries.first { $0.name == issuer.serializedBytes })
        let key = try Certificate.PublicKey(derEncoded: found.key)
        #expect(key.isValidSignature(issuing.signature, for: issuing))
        #expect(FileManager.default.fileExists(atPath: out.path + ".manifest.txt"))
    }

    @Test func badRequestsWriteNothingAndReRunsWriteTheSameBytes() throws {
        let fixture = try TemporaryStore()
        let out = fixture.folder.appending("out")
        let environment = fixture.processEnvironment
        for arguments in [["--format", "der"], ["--format", "esp-crt-bundle", "--idf-version", "five"], ["--format", "c", "--ca", "nosuch"],
                          ["--format", "c", "--ca", "../../etc"]] {
            let result = try ProcessRunner.run(ProcessRunner.iotcaExecutable, ["trust-store", "--store", fixture.storeArgument, "--out", out.path] + arguments,
                                               environment: environment)
            #expect(!result.succeeded && result.stderr.contains("iotca: error:"), "\(arguments): \(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: out.path), "\(arguments) wrote \(out.path)")
        }
        for format in ["pem", "c", "esp-crt-bundle"] {
            let run = { () throws -> Data in
                let result = try ProcessRunner.run(ProcessRunner.iotcaExecutable, ["trust-store", "--store", fixture.storeArgument, "--format", format, "--out", out.path],
                                                   environment: environment)
                #expect(result.succeeded, "\(result.stderr)")
                return try Data(contentsOf: out)
            }
            #expect(try run() == run(), "\(format) differs between two runs")
        }
    }
}

/// ESP-IDF's bundle read back from the layouts `esp_crt_bundle.c` documents, apart from the writer.
enum ESPBundleReader {
    struct Entry { let name: [UInt8]; let key: [UInt8] }
    struct Malformed: Error {}

    static func read(_ bytes: [UInt8], layout: ESPCertificateBundle.Layout) throws -> [Entry] {
        func u16(_ at: Int, big: Bool) throws -> Int {
            guard at + 2 <= bytes.count else { throw Malformed() }
            return big ? Int(bytes[at]) << 8 | Int(bytes[at + 1]) : Int(bytes[at + 1]) << 8 | Int(bytes[at])
        }
        func entry(at start: Int, big: Bool) throws -> (Entry, Int) {
            let nameLength = try u16(start, big: big), keyLength = try u16(start + 2, big: big)
            let end = start + 4 + nameLength + keyLength
            guard end <= bytes.count else { throw Malformed() }
            return (Entry(name: Array(bytes[(start + 4)..<(start + 4 + nameLength)]), key: Array(bytes[(start + 4 + nameLength)..<end])), end)
        }
        var entries: [Entry] = []
        switch layout {
        case .countPrefixed:
            var at = 2
            for _ in 0..<(try u16(0, big: true)) {
                let (next, end) = try entry(at: at, big: true)
                entries.append(next)
                at = end
            }
            guard at == bytes.count else { throw Malformed() }
        case .offsetTable:
            guard bytes.count >= 4 else { throw Malformed() }
            let first = Int(bytes[0]) | Int(bytes[1]) << 8 | Int(bytes[2]) << 16 | Int(bytes[3]) << 24
            guard first > 0, first % 4 == 0, first <= bytes.count else { throw Malformed() }
            for index in 0..<(first / 4) {
                let o = index * 4
                let offset = Int(bytes[o]) | Int(bytes[o + 1]) << 8 | Int(bytes[o + 2]) << 16 | Int(bytes[o + 3]) << 24
                entries.append(try entry(at: offset, big: false).0)
            }
        }
        return entries
    }
}
