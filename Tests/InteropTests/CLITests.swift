import Foundation
import IoTCAKit
import Testing
import TestSupport

/// The `iotca` binary as factory scripts use it: exit codes, one-line errors, JSON output.
@Suite struct CLITests {
    let folder = TemporaryFolder("iotca-cli")

    func iotca(_ arguments: [String], passphrase: String? = nil, input: Data? = nil) throws -> ProcessResult {
        var environment = ProcessInfo.processInfo.environment
        environment["IOTCA_STORE"] = folder.path("store")
        environment["IOTCA_PASSPHRASE"] = passphrase
        let result = try ProcessRunner.run(ProcessRunner.iotcaExecutable, arguments, environment: environment,
                                           input: input, directory: folder.url)
        if !result.succeeded {
            // Errors are one line on stderr, never on stdout.
            #expect(result.stderr.hasPrefix("iotca: error: ") || result.status == 64, "\(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1 || result.status == 64, "\(result.stderr)")
        }
        return result
    }

    @Test func executableIsBuilt() {
        #expect(FileManager.default.isExecutableFile(atPath: ProcessRunner.iotcaExecutable),
                "run `swift build` first: \(ProcessRunner.iotcaExecutable) is missing")
    }

    @Test func quickStartAndExitCodes() throws {
        let initialized = try iotca(["init", "--org", "Acme", "--json"], passphrase: "pw-1 long enough")
        #expect(initialized.status == 0, "\(initialized.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(initialized.stdout.utf8)) as? [String: Any]
        #expect((report?["root_spki_sha256"] as? String)?.count == 44)

        #expect(try iotca(["init"], passphrase: "pw-1 long enough").status == CLIStatus.store.rawValue)

        let issued = try iotca(["issue", "device-42", "--json"], passphrase: "pw-1 long enough")
        #expect(issued.status == 0, "\(issued.stderr)")
        let bundle = folder.appending("bundles/device-42")
        #expect(try OpenSSLCLI.verifyBundle(bundle).succeeded)
        let json = try JSONSerialization.jsonObject(with: Data(issued.stdout.utf8)) as? [String: Any]
        let manifest = json?["manifest"] as? [String: Any]
        #expect(manifest?["thing"] as? String == "device-42")

        let conflict = try iotca(["issue", "device-42"], passphrase: "pw-1 long enough")
        #expect(conflict.status == CLIStatus.conflict.rawValue)
        // The library says what is wrong; the CLI adds the flag that fixes it.
        #expect(conflict.stderr.contains("already has an active certificate") && conflict.stderr.hasSuffix(": pass --renew to issue another\n"),
                "\(conflict.stderr)")
        #expect(try iotca(["issue", "device-42", "--renew"], passphrase: "pw-1 long enough").status == 0)
        #expect(try iotca(["issue", "d2", "--template", "nope"], passphrase: "pw-1 long enough").status == CLIStatus.notFound.rawValue)
        #expect(try iotca(["issue", "../etc/passwd"], passphrase: "pw-1 long enough").status == CLIStatus.rejected.rawValue)
        #expect(try iotca(["issue", "d2", "--san", "bogus"], passphrase: "pw-1 long enough").status == CLIStatus.rejected.rawValue)
        #expect(try iotca(["issue", "d2", "--validity", "40y"], passphrase: "pw-1 long enough").status == CLIStatus.rejected.rawValue)
        #expect(try iotca(["issue", "d2", "--validity", "soon"], passphrase: "pw-1 long enough").status == CLIStatus.usage.rawValue)
        try Data("garbage".utf8).write(to: folder.appending("bad.csr"))
        #expect(try iotca(["issue", "d2", "--csr", "bad.csr"], passphrase: "pw-1 long enough").status == CLIStatus.rejected.rawValue)

        // Passphrases: wrong, and none at all with no terminal (stdin is /dev/null): an error, not a hang.
        let wrong = try iotca(["issue", "d2"], passphrase: "nope")
        #expect(wrong.status == CLIStatus.passphrase.rawValue)
        #expect(!wrong.stderr.contains("nope"))
        #expect(try iotca(["issue", "d2"]).status == CLIStatus.passphrase.rawValue)
        try Data("pw-1 long enough\n".utf8).write(to: folder.appending("pass.txt"))
        #expect(try iotca(["issue", "d3", "--passphrase-file", "pass.txt"]).status == 0)

        #expect(try iotca(["ca", "disable", "issuing"], passphrase: "pw-1 long enough").status == 0)
        #expect(try iotca(["issue", "d2"], passphrase: "pw-1 long enough").status == CLIStatus.authorityUnavailable.rawValue)
        #expect(try iotca(["ca", "enable", "issuing"], passphrase: "pw-1 long enough").status == 0)
        #expect(try iotca(["ca", "show", "nope"]).status == CLIStatus.notFound.rawValue)

        let list = try iotca(["list", "--json"])
        let entries = try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]]
        #expect(entries?.compactMap { $0["thing"] as? String }.sorted() == ["d3", "device-42", "device-42"])
        let pem = try iotca(["show", "device-42", "--pem"])
        #expect(pem.stdout == (try String(contentsOf: bundle.appendingPathComponent("cert.pem"), encoding: .utf8)))
        #expect(try iotca(["show", "nobody"]).status == CLIStatus.notFound.rawValue)
        let cas = try iotca(["ca", "list", "--json"])
        #expect((try JSONSerialization.jsonObject(with: Data(cas.stdout.utf8)) as? [Any])?.count == 4)  // root, issuing, and the service's two
        #expect(try iotca(["template", "list"]).stdout.contains("subordinate-ca"))
    }

    @Test func revocationFromTheCommandLine() throws {
        #expect(try iotca(["init", "--insecure-no-passphrase"]).status == 0)
        #expect(try iotca(["issue", "d1"]).status == 0)
        let serial = try iotca(["show", "d1", "--json"])
        let entry = try JSONSerialization.jsonObject(with: Data(serial.stdout.utf8)) as? [String: Any]
        let hex = try #require(entry?["serial"] as? String)

        #expect(try iotca(["revoke", hex, "--reason", "stolen"]).status == CLIStatus.rejected.rawValue)
        #expect(try iotca(["revoke", hex, "--invalidity-date", "yesterday"]).status == CLIStatus.rejected.rawValue)
        #expect(try iotca(["revoke", String(repeating: "ab", count: 20)]).status == CLIStatus.notFound.rawValue)
        #expect(try iotca(["revoke", hex, "--ca", "nope"]).status == CLIStatus.notFound.rawValue)
        #expect(try iotca(["revoke"]).status == CLIStatus.usage.rawValue)

        let revoked = try iotca(["revoke", hex, "--reason", "key-compromise", "--json"])
        #expect(revoked.status == 0, "\(revoked.stderr)")
        let again = try iotca(["revoke", hex])
        #expect(again.status == CLIStatus.conflict.rawValue)
        #expect(again.stderr.contains("already revoked"))
        let crl = folder.path("store/public/issuing.crl")
        #expect(try OpenSSLCLI.run(["crl", "-inform", "DER", "-in", crl, "-noout"]).succeeded)

        let shown = try iotca(["crl", "show", "--ca", "issuing", "--json"])
        let reports = try JSONSerialization.jsonObject(with: Data(shown.stdout.utf8)) as? [[String: Any]]
        #expect((reports?.first?["crl"] as? [String: Any])?["entries"] as? Int == 1)
        #expect(try iotca(["crl", "publish", "--if-due"]).stdout.contains("Published CRL 1 of root"))
        #expect(try iotca(["crl", "publish", "--if-due"]).stdout.contains("nothing published"))
        #expect(try iotca(["crl", "publish", "--ca", "nope"]).status == CLIStatus.notFound.rawValue)
        #expect(try iotca(["ca", "set", "issuing", "--crl-url", "ftp://x"]).status == CLIStatus.rejected.rawValue)
        #expect(try iotca(["ca", "set", "issuing", "--crl-url", "http://pki.example.com/issuing.crl"]).status == 0)
    }

    @Test func thePassphraseNeverAppearsInOutputsOrTheStore() throws {
        let secret = "Correct-Horse-Battery-\(UUID().uuidString)"
        var outputs: [String] = []
        for arguments in [["init", "--json"], ["issue", "d1", "--json"], ["issue", "d1"], ["list", "--json"], ["ca", "list", "--json"],
                          ["ca", "show", "issuing", "--json"], ["revoke", "--thing", "d1", "--json"], ["audit", "--format", "json"],
                          ["pins", "--format", "json"], ["doctor", "--json"]] {
            let result = try iotca(arguments, passphrase: secret)
            outputs.append(result.stdout + result.stderr)
        }
        let wrong = try iotca(["issue", "d2"], passphrase: secret + "-wrong")
        outputs.append(wrong.stdout + wrong.stderr)
        #expect(!outputs.joined().contains("Correct-Horse-Battery"))
        // Neither the database nor any public file holds it; the key files hold only ciphertext.
        let store = folder.appending("store")
        for path in (FileManager.default.subpaths(atPath: store.path) ?? []) {
            guard let data = FileManager.default.contents(atPath: store.appendingPathComponent(path).path) else { continue }
            #expect(data.range(of: Data(secret.utf8)) == nil, "\(path) contains the passphrase")
        }
        let opened = try Store.open(store)
        #expect(try String(contentsOf: opened.layout.url(try opened.authority(named: "root").keyFile), encoding: .utf8)
            .hasPrefix("-----BEGIN ENCRYPTED PRIVATE KEY-----"))
        // Nor do the CA keys themselves show anywhere: not their private scalars (hex, as
        // `openssl pkey -text` prints them, or raw in a store file), not their PKCS#8 encoding.
        for name in ["root", "issuing"] {
            let keyFile = opened.layout.url(try opened.authority(named: name).keyFile).path
            let text = try OpenSSLCLI.run(["pkey", "-in", keyFile, "-passin", "pass:\(secret)", "-noout", "-text"])
            try #require(text.succeeded, "\(text.stderr)")
            let scalarHex = text.stdout.components(separatedBy: "priv:").last?.components(separatedBy: "pub:").first?
                .filter(\.isHexDigit) ?? ""
            try #require(scalarHex.count == 64, "\(text.stdout)")
            let scalar = stride(from: 0, to: 64, by: 2).compactMap { index -> UInt8? in
                let start = scalarHex.index(scalarHex.startIndex, offsetBy: index)
                return UInt8(scalarHex[start..<scalarHex.index(start, offsetBy: 2)], radix: 16)
            }
            let plain = try OpenSSLCLI.run(["pkey", "-in", keyFile, "-passin", "pass:\(secret)"])
            let body = plain.stdout.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
            #expect(!outputs.joined().lowercased().contains(scalarHex.lowercased()), "\(name) key scalar in an output")
            // The first 48 base64 characters are the same for every P-256 key; the scalar follows.
            #expect(!outputs.joined().contains(body.dropFirst(48).prefix(40)), "\(name) key PKCS#8 in an output")
            for path in (FileManager.default.subpaths(atPath: store.path) ?? []) {
                guard let data = FileManager.default.contents(atPath: store.appendingPathComponent(path).path) else { continue }
                #expect(data.range(of: Data(scalar)) == nil, "\(path) holds the \(name) key in the clear")
            }
        }
    }

    @Test func missingStoreIsAStoreError() throws {
        #expect(try iotca(["list"]).status == CLIStatus.store.rawValue)
        #expect(try iotca(["issue", "d"], passphrase: "x").status == CLIStatus.store.rawValue)
    }
}
