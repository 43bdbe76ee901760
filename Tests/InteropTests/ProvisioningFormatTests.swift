import Foundation
import IoTCAKit
import Testing
import TestSupport

/// Pins and bundle formats, judged by the usual openssl recipes, unzip and a C compiler.
@Suite struct ProvisioningFormatTests {
    /// `openssl x509 -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64`
    func opensslPin(certificate path: String) throws -> String {
        let folder = TemporaryFolder()
        let publicKey = try OpenSSLCLI.run(["x509", "-in", path, "-pubkey", "-noout"]).stdout
        try Data(publicKey.utf8).write(to: folder.appending("pub.pem"))
        try OpenSSLCLI.run(["pkey", "-pubin", "-in", folder.path("pub.pem"), "-outform", "der", "-out", folder.path("pub.der")])
        try OpenSSLCLI.run(["dgst", "-sha256", "-binary", "-out", folder.path("digest"), folder.path("pub.der")])
        return try OpenSSLCLI.run(["base64", "-A", "-in", folder.path("digest")]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func opensslFingerprint(_ path: String, _ digest: String) throws -> String {
        let line = try OpenSSLCLI.run(["x509", "-in", path, "-noout", "-fingerprint", "-\(digest)"]).stdout
        return String(line.split(separator: "=").last ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func pinsEqualTheOpenSSLRecipeAndBackupPinsBecomeTheNextRoot() throws {
        let fixture = try TemporaryStore()
        let pins = try PinSet.collect(from: fixture.store)
        #expect(pins.map(\.name) == ["root", "issuing", "root-2"])
        #expect(pins.map(\.role) == [.root, .intermediate, .backup])
        for pin in pins where pin.role != .backup {
            let certificate = fixture.store.layout.certificateFile(for: pin.name).path
            #expect(pin.spkiSHA256Base64 == (try opensslPin(certificate: certificate)))
            let sha256 = try #require(pin.certificateSHA256), sha1 = try #require(pin.certificateSHA1)
            #expect(PinSetColons.colons(sha256) == (try opensslFingerprint(certificate, "sha256")))
            #expect(PinSetColons.colons(sha1) == (try opensslFingerprint(certificate, "sha1")))
        }
        // The backup pin is the standby key's SPKI pin, computed by openssl from the key file.
        let standbyKey = fixture.store.layout.url(try #require(try fixture.store.standbyKeys().first).keyFile).path
        let der = fixture.folder.appending("standby.der")
        try OpenSSLCLI.run(["pkey", "-in", standbyKey, "-passin", "pass:\(TemporaryStore.passphrase)", "-pubout", "-outform", "der", "-out", der.path])
        try OpenSSLCLI.run(["dgst", "-sha256", "-binary", "-out", fixture.folder.path("standby.digest"), der.path])
        let backup = try OpenSSLCLI.run(["base64", "-A", "-in", fixture.folder.path("standby.digest")]).stdout
        #expect(pins[2].spkiSHA256Base64 == backup.trimmingCharacters(in: .whitespacesAndNewlines))

        // Rotation certifies exactly that key: firmware pinned with the backup pin trusts root-2.
        let (root, next) = try AuthorityManager(keyring: fixture.keyring).rotateRoot()
        #expect(root.name == "root-2" && root.kind == .root && next.name == "root-3")
        let rotated = try PinSet.collect(from: fixture.store)
        #expect(rotated.first { $0.name == "root-2" }?.role == .root)
        #expect(rotated.first { $0.name == "root-2" }?.spkiSHA256 == pins[2].spkiSHA256)
        #expect(rotated.last?.role == .backup && rotated.last?.name == "root-3")
        #expect(try opensslPin(certificate: fixture.store.layout.certificateFile(for: "root-2").path) == pins[2].spkiSHA256Base64)
        // A new issuing CA under the new root issues certificates that verify.
        try AuthorityManager(keyring: fixture.keyring).createSubordinate("issuing-2", parent: "root-2")
        let device = try fixture.issue(IssueRequest(thing: "d", authority: "issuing-2"))
        #expect(try OpenSSLCLI.verifyBundle(device.folder).succeeded)
    }

    @Test func cHeaderCompilesAndHoldsThePins() throws {
        let fixture = try TemporaryStore(encrypted: false)
        let pins = try PinSet.collect(from: fixture.store)
        try Data(try PinSet.render(pins, as: .c).utf8).write(to: fixture.folder.appending("iotca_pins.h"))
        try Data("""
            #include <stdio.h>
            #include "iotca_pins.h"
            int main(void) {
                printf("%s\\n", ROOT_SPKI_SHA256_B64);
                for (int i = 0; i < IOTCA_PIN_COUNT; i++) printf("%02x", IOTCA_SPKI_PINS[i][0]);
                printf("\\n%02x%02x\\n", ROOT_2_SPKI_SHA256[0], ROOT_2_SPKI_SHA256[31]);
                return 0;
            }
            """.utf8).write(to: fixture.folder.appending("main.c"))
        let compiled = try ProcessRunner.run("cc", ["-std=c99", "-Wall", "-Werror", "-o", fixture.folder.path("pins"), fixture.folder.path("main.c")])
        try #require(compiled.succeeded, "\(compiled.stderr)")
        let output = try ProcessRunner.run(fixture.folder.path("pins"), []).stdout.split(separator: "\n")
        #expect(output[0] == pins[0].spkiSHA256Base64)
        #expect(output[1] == pins.map { String(format: "%02x", $0.spkiSHA256[0]) }.joined())
        #expect(output[2] == String(format: "%02x%02x", pins[2].spkiSHA256[0], pins[2].spkiSHA256[31]))
        #expect(try PinSet.render(pins, as: .curl) == pins.map { "sha256//\($0.spkiSHA256Base64)" }.joined(separator: ";") + "\n")
        #expect(try PinSet.render(pins, as: .hpkp).hasPrefix("pin-sha256=\"\(pins[0].spkiSHA256Base64)\""))
    }

    @Test func cHeaderSurvivesHostileOrganizationsAndLookAlikeNames() throws {
        let fixture = try TemporaryStore(encrypted: false, organization: "Acme */ int x = 1; /* ??/ \u{00e9}\\")
        let manager = AuthorityManager(keyring: fixture.keyring)
        for name in ["site-2", "site_2", "site.2", "Site-2", "2nd"] { try manager.createSubordinate(name, parent: "root") }
        let pins = try PinSet.collect(from: fixture.store)
        let header = try PinSet.render(pins, as: .c)
        try Data(header.utf8).write(to: fixture.folder.appending("iotca_pins.h"))
        try Data("""
            #include <stdio.h>
            #include "iotca_pins.h"
            int main(void) {
                for (int i = 0; i < IOTCA_PIN_COUNT; i++) printf("%02x\\n", IOTCA_SPKI_PINS[i][0]);
                return 0;
            }
            """.utf8).write(to: fixture.folder.appending("main.c"))
        let compiled = try ProcessRunner.run("cc", ["-std=c99", "-Wall", "-Wextra", "-Werror", "-o", fixture.folder.path("pins"), fixture.folder.path("main.c")])
        try #require(compiled.succeeded, "\(compiled.stderr)")
        let output = try ProcessRunner.run(fixture.folder.path("pins"), []).stdout.split(separator: "\n")
        #expect(output == pins.map { Substring(String(format: "%02x", $0.spkiSHA256[0])) })
        #expect(!header.contains("int x = 1; /*"))
        for identifier in ["SITE_2_SPKI_SHA256", "SITE_2_2_SPKI_SHA256", "SITE_2_3_SPKI_SHA256", "SITE_2_4_SPKI_SHA256", "CA_2ND_SPKI_SHA256"] {
            #expect(header.contains("static const uint8_t \(identifier)[32]"))
        }
    }

    @Test func p12ZipPemAndJSONBundlesReadBack() throws {
        let fixture = try TemporaryStore(encrypted: false)
        let p12 = try fixture.provisioner.issue(IssueRequest(thing: "p"), bundleParent: fixture.bundles, format: .p12,
                                                 bundlePassphrase: Passphrase("bundle secret"))
        let p12Path = try #require(p12.location).path
        #expect(p12Path.hasSuffix("p.p12"))
        let info = try OpenSSLCLI.run(["pkcs12", "-info", "-in", p12Path, "-passin", "pass:bundle secret", "-noout"])
        #expect(info.succeeded, "\(info.stderr)")
        #expect(info.stderr.contains("MAC: sha256") && info.stderr.contains("AES-256-CBC") && info.stderr.contains("PBKDF2"))
        #expect(try !OpenSSLCLI.run(["pkcs12", "-info", "-in", p12Path, "-passin", "pass:wrong", "-noout"]).succeeded)
        let extracted = try OpenSSLCLI.run(["pkcs12", "-in", p12Path, "-passin", "pass:bundle secret", "-nodes"]).stdout
        #expect(extracted.components(separatedBy: "BEGIN CERTIFICATE").count == 4)  // leaf, issuing, root
        #expect(extracted.contains("BEGIN PRIVATE KEY"))
        #expect(throws: PolicyError.self) {
            try fixture.provisioner.issue(IssueRequest(thing: "q"), bundleParent: fixture.bundles, format: .p12)
        }

        let zip = try fixture.provisioner.issue(IssueRequest(thing: "z"), bundleParent: fixture.bundles, format: .zip)
        let zipPath = try #require(zip.location).path
        #expect(try ProcessRunner.run("unzip", ["-t", zipPath]).stdout.contains("No errors detected"))
        let unzipped = fixture.folder.appending("unzipped")
        #expect(try ProcessRunner.run("unzip", ["-q", zipPath, "-d", unzipped.path]).succeeded)
        #expect(try OpenSSLCLI.verifyBundle(unzipped.appendingPathComponent("z")).succeeded)
        let keyMode = try FileManager.default.attributesOfItem(atPath: unzipped.appendingPathComponent("z/key.pem").path)[.posixPermissions] as? Int
        #expect(keyMode == 0o600)

        let pem = try fixture.provisioner.issue(IssueRequest(thing: "m"), bundleParent: fixture.bundles, format: .pem)
        let pemText = try String(contentsOf: try #require(pem.location), encoding: .utf8)
        #expect(pemText.hasPrefix("-----BEGIN PRIVATE KEY-----"))
        #expect(pemText.components(separatedBy: "BEGIN CERTIFICATE").count == 3)  // leaf and issuing

        let json = try fixture.provisioner.issue(IssueRequest(thing: "j"), bundleParent: fixture.bundles, format: .json)
        #expect(json.location == nil)
        let object = try JSONSerialization.jsonObject(with: try JSONEncoder.iotca.encode(json.bundle.jsonForm)) as? [String: Any]
        #expect((object?["private_key_pem"] as? String)?.hasPrefix("-----BEGIN PRIVATE KEY-----") == true)
        #expect(!FileManager.default.fileExists(atPath: fixture.bundles.appendingPathComponent("j").path))
    }
}

enum PinSetColons {
    static func colons(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02X", $0) }.joined(separator: ":") }
}
