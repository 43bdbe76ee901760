import Foundation
import IoTCAKit
import Testing
import TestSupport

/// The hostile-input matrix of the README (Reliability): every case through the `iotca` binary,
/// each a one-line error on stderr, its exit code, and nothing written: the store's
/// certificates, CAs and audit events and every file around it are the same afterwards.
@Suite(.serialized) struct HostileInputTests {
    let folder = TemporaryFolder("iotca-hostile")
    static let passphrase = "hostile passphrase"

    struct Case: Sendable {
        let name: String
        let arguments: [String]
        let status: CLIStatus
        /// A part of the one-line message the operator sees.
        let message: String
        var passphrase: String? = HostileInputTests.passphrase
    }

    func iotca(_ arguments: [String], passphrase: String? = Self.passphrase) throws -> ProcessResult {
        var environment = ProcessInfo.processInfo.environment
        environment["IOTCA_STORE"] = folder.path("store")
        environment["IOTCA_PASSPHRASE"] = passphrase
        return try ProcessRunner.run(ProcessRunner.iotcaExecutable, arguments, environment: environment, directory: folder.url)
    }

    /// What must not change: CAs, certificates, events, and every file except SQLite's own.
    struct Snapshot: Equatable {
        let authorities: [String]
        let certificates: [String]
        let events: Int
        let lastHash: String?
        let files: [String]
    }

    func snapshot() throws -> Snapshot {
        let store = try Store.open(folder.appending("store"))
        var filter = CertificateFilter()
        filter.includeAuthorities = true
        let events = try store.events()
        var files: [String] = []
        let root = folder.url.path
        if let walker = FileManager.default.enumerator(atPath: root) {
            while let path = walker.nextObject() as? String {
                guard !path.contains("iotca.db") else { continue }
                let size = (try? FileManager.default.attributesOfItem(atPath: root + "/" + path)[.size] as? Int) ?? -1
                files.append("\(path) \(size)")
            }
        }
        return Snapshot(
            authorities: try store.authorities().map { "\($0.name) \($0.status.rawValue)" },
            certificates: try store.certificates(filter).map { "\($0.serial.hex) \($0.status.rawValue)" },
            events: events.count, lastHash: events.last?.hash, files: files.sorted())
    }

    func request(_ name: String, _ options: [String], der: Bool = false) throws -> String {
        let path = folder.path(name)
        let made = try OpenSSLCLI.run(["req", "-new"] + options + ["-nodes", "-keyout", folder.path(name + ".key"), "-out", path,
                                                                   "-subj", "/CN=evil"] + (der ? ["-outform", "DER"] : []))
        try #require(made.succeeded, "\(made.stderr)")
        return path
    }

    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        try Data(bytes).write(to: folder.appending(name))
        return folder.path(name)
    }

    @Test func everyCaseIsRefusedCleanlyAndWritesNothing() throws {
        #expect(try iotca(["init", "--org", "Fleet"]).succeeded)
        let p256 = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
        let pem = try request("good.csr", p256)
        let der = try request("good.der", p256, der: true)
        let pemBytes = Array(try Data(contentsOf: URL(fileURLWithPath: pem)))
        var derBytes = Array(try Data(contentsOf: URL(fileURLWithPath: der)))
        let truncatedPEM = try write("truncated.csr", Array(pemBytes.prefix(pemBytes.count / 2)))
        let truncatedDER = try write("truncated.der", Array(derBytes.prefix(derBytes.count - 20)))
        let garbage = try write("garbage.csr", Array("-----BEGIN CERTIFICATE REQUEST-----\nnot base64 at all\n-----END CERTIFICATE REQUEST-----\n".utf8))
        let oversized = try write("oversized.csr", [UInt8](repeating: 0x41, count: 64 * 1024 + 1))
        derBytes[derBytes.count - 1] ^= 0x01  // the signature's last byte: the request no longer matches it
        let forged = try write("forged.der", derBytes)
        let rsa1024 = try request("rsa1024.csr", ["-newkey", "rsa:1024"])
        let secp256k1 = try request("k1.csr", ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:secp256k1"])
        let brainpool = try request("bp.csr", ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:brainpoolP256r1"])
        let p521 = try request("p521.csr", ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-521"])
        let ed448 = try request("ed448.csr", ["-newkey", "ed448"])
        try #"{"name": "bad", "keyType": "ec-p256", "validity": "-5d", "subject": {"commonName": "{{thing}}"}, "keyUsage": ["digitalSignature"], "ca": false}"#
            .write(to: folder.appending("store/templates/bad.json"), atomically: true, encoding: .utf8)
        try #"{"name": "worse", "keyType": "ec-p256", "validity": "30d", "subject": {"commonName": "{{nope}}"}, "keyUsage": ["teleport"], "ca": false}"#
            .write(to: folder.appending("store/templates/worse.json"), atomically: true, encoding: .utf8)
        let nulRow = try write("nul.jsonl", Array(#"{"thing": "dev\u0000ice"}"#.utf8) + [0x0A])
        #expect(try iotca(["ca", "create", "site-2", "--parent", "root"]).succeeded)
        // `short` was made two minutes ago (the library on a clock set back), valid for one: expired now.
        let past = try Store.open(folder.appending("store"), clock: .fixed(Date().addingTimeInterval(-120)))
        try AuthorityManager(keyring: Keyring(store: past, passphrase: .fixed(Passphrase(Self.passphrase))))
            .createSubordinate("short", parent: "root", validity: try ValidityPeriod("60s"))
        let site2 = try #require(try Store.open(folder.appending("store")).authority(named: "site-2").certificateDER)
        #expect(try iotca(["revoke", try IssuedCertificate(der: site2).serial.hex, "--ca", "root", "--reason", "ca-compromise"]).succeeded)
        #expect(try iotca(["ca", "create", "paused", "--parent", "root"]).succeeded)
        #expect(try iotca(["ca", "disable", "paused"]).succeeded)

        let cases: [Case] = [
            Case(name: "truncated CSR (PEM)", arguments: ["issue", "d", "--csr", truncatedPEM], status: .rejected, message: "CSR"),
            Case(name: "truncated CSR (DER)", arguments: ["issue", "d", "--csr", truncatedDER], status: .rejected, message: "CSR"),
            Case(name: "garbage CSR", arguments: ["issue", "d", "--csr", garbage], status: .rejected, message: "CSR"),
            Case(name: "oversized CSR (64 KiB + 1)", arguments: ["issue", "d", "--csr", oversized], status: .rejected, message: "64 KiB"),
            Case(name: "CSR whose signature does not match", arguments: ["issue", "d", "--csr", forged], status: .rejected, message: "signature"),
            Case(name: "RSA-1024 key", arguments: ["issue", "d", "--csr", rsa1024], status: .rejected, message: "RSA 1024 bits"),
            Case(name: "secp256k1 key", arguments: ["issue", "d", "--csr", secp256k1], status: .rejected, message: "EC curve secp256k1"),
            Case(name: "brainpoolP256r1 key", arguments: ["issue", "d", "--csr", brainpool], status: .rejected, message: "EC curve brainpoolP256r1"),
            Case(name: "P-521 key", arguments: ["issue", "d", "--csr", p521], status: .rejected, message: "EC curve P-521"),
            Case(name: "Ed448 key", arguments: ["issue", "d", "--csr", ed448], status: .rejected, message: "Ed448"),
            Case(name: "thing name with /", arguments: ["issue", "a/b"], status: .rejected, message: "thing name"),
            Case(name: "thing name ..", arguments: ["issue", ".."], status: .rejected, message: "thing name"),
            Case(name: "thing name with ../", arguments: ["issue", "../../etc/cron.d/x"], status: .rejected, message: "thing name"),
            Case(name: "thing name with control characters", arguments: ["issue", "dev\u{1B}[31mred"], status: .rejected, message: "thing name"),
            Case(name: "thing name of 10 kB", arguments: ["issue", String(repeating: "a", count: 10_000)], status: .rejected, message: "thing name"),
            Case(name: "thing name with NUL (batch row)", arguments: ["batch", nulRow, "--out", folder.path("out")], status: .rejected, message: "1 failed"),
            Case(name: "template with a negative validity", arguments: ["issue", "d", "--template", "bad"], status: .rejected, message: "validity"),
            Case(name: "template with unknown values", arguments: ["issue", "d", "--template", "worse"], status: .rejected, message: "worse"),
            Case(name: "template that does not exist", arguments: ["issue", "d", "--template", "nope"], status: .notFound, message: "nope"),
            Case(name: "validity beyond the issuer's", arguments: ["issue", "d", "--validity", "40y"], status: .rejected, message: "validity"),
            Case(name: "wrong passphrase", arguments: ["issue", "d"], status: .passphrase, message: "passphrase", passphrase: "wrong"),
            Case(name: "no passphrase and no terminal", arguments: ["issue", "d"], status: .passphrase, message: "passphrase", passphrase: nil),
            Case(name: "disabled CA", arguments: ["issue", "d", "--ca", "paused"], status: .authorityUnavailable, message: "disabled"),
            Case(name: "revoked CA", arguments: ["issue", "d", "--ca", "site-2"], status: .authorityUnavailable, message: "revoked"),
            Case(name: "expired CA", arguments: ["issue", "d", "--ca", "short"], status: .authorityUnavailable, message: "expired"),
            Case(name: "CA that does not exist", arguments: ["issue", "d", "--ca", "ghost"], status: .notFound, message: "ghost"),
        ]
        let before = try snapshot()
        for hostile in cases {
            let result = try iotca(hostile.arguments, passphrase: hostile.passphrase)
            #expect(result.status == hostile.status.rawValue, "\(hostile.name): \(result.status) \(result.stderr)")
            let lines = result.stderr.split(separator: "\n")
            if hostile.arguments.first == "batch" {
                // A batch reports each bad row with its line, then the summary.
                #expect(lines.contains { $0.contains(":1: 'dev\\x00ice': ") }, "\(hostile.name): \(result.stderr)")
            } else {
                #expect(lines.count == 1 && result.stderr.hasPrefix("iotca: error: "), "\(hostile.name): \(result.stderr)")
            }
            #expect(result.stderr.contains(hostile.message) || result.stdout.contains(hostile.message),
                    "\(hostile.name): \(result.stderr)")
            #expect(!result.stderr.contains(Self.passphrase) && !result.stdout.contains(Self.passphrase))
            #expect(try snapshot() == before, "\(hostile.name) changed the store or wrote files")
        }
    }

    @Test func requestsForMoreAreIgnoredTheTemplateDecides() throws {
        #expect(try iotca(["init"]).succeeded)
        let path = folder.path("greedy.csr")
        let made = try OpenSSLCLI.run([
            "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", folder.path("greedy.key"),
            "-out", path, "-subj", "/CN=root-of-all/O=Mallory",
            "-addext", "basicConstraints=critical,CA:TRUE,pathlen:5", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            "-addext", "extendedKeyUsage=serverAuth,codeSigning,OCSPSigning", "-addext", "subjectAltName=DNS:*.example.com,IP:10.0.0.1",
        ])
        try #require(made.succeeded, "\(made.stderr)")
        let issued = try iotca(["issue", "d", "--csr", path])
        #expect(issued.succeeded, "\(issued.stderr)")
        let text = try OpenSSLCLI.text(ofCertificate: folder.path("bundles/d/cert.pem"))
        #expect(text.contains("CA:FALSE") && text.contains("Digital Signature") && text.contains("TLS Web Client Authentication"))
        for asked in ["Certificate Sign", "Code Signing", "OCSP Signing", "Server Authentication", "example.com", "10.0.0.1", "Mallory", "root-of-all"] {
            #expect(!text.contains(asked), "\(asked) was copied from the CSR")
        }
        let verify = try OpenSSLCLI.verifyBundle(folder.appending("bundles/d"))
        #expect(verify.succeeded, "\(verify.stderr)")
    }

    /// Root ignores file modes, so as root the store is handed to `nobody` first.
    static let canDropPrivileges: Bool = {
        getuid() != 0 || FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv")
    }()

    @Test(.enabled(if: canDropPrivileges)) func readOnlyStoreIsAStoreErrorAndReadsStillWork() throws {
        #expect(try iotca(["init"]).succeeded)
        #expect(try iotca(["issue", "d1"]).succeeded)
        try Data("thing\nb1\nb2\n".utf8).write(to: folder.appending("rows.csv"))
        let store = folder.appending("store")
        var asUser: [String] = []
        var executable = ProcessRunner.iotcaExecutable
        if getuid() == 0 {
            // `nobody` must reach the store and run the binary (which may sit in a folder only
            // root can enter): the temporary folder is ours to open up, with a copy inside.
            chmod(folder.url.path, 0o755)
            executable = folder.path("iotca")
            // Copied by cp, not by this process: a file this process holds open for writing is
            // inherited by whatever another test spawns meanwhile, and exec then fails with
            // "Text file busy" (seen once in a full run).
            let copied = try ProcessRunner.run("/bin/cp", [ProcessRunner.iotcaExecutable, executable])
            try #require(copied.succeeded, "\(copied.stderr)")
            chmod(executable, 0o755)
            let owned = try ProcessRunner.run("/bin/chown", ["-R", "65534:65534", folder.url.path])
            try #require(owned.succeeded, "\(owned.stderr)")
            asUser = ["--reuid=65534", "--regid=65534", "--clear-groups"]
        }
        let before = try snapshot()
        for file in try FileManager.default.contentsOfDirectory(atPath: store.path) where file.hasPrefix("iotca.db") {
            chmod(store.appendingPathComponent(file).path, 0o400)
        }
        chmod(store.path, 0o500)
        defer {
            chmod(store.path, 0o700)
            _ = try? ProcessRunner.run("/bin/chown", ["-R", "\(getuid()):\(getgid())", folder.url.path])
        }
        func run(_ arguments: [String]) throws -> ProcessResult {
            let environment = ["IOTCA_STORE": store.path, "IOTCA_PASSPHRASE": Self.passphrase, "PATH": "/usr/bin:/bin"]
            if asUser.isEmpty {
                return try ProcessRunner.run(executable, arguments, environment: environment, directory: folder.url)
            }
            return try ProcessRunner.run("/usr/bin/setpriv", asUser + [executable] + arguments,
                                         environment: environment, directory: folder.url)
        }
        let probe = try run(["--version"])
        try #require(probe.succeeded, "the iotca binary cannot be run as nobody here: \(probe.stderr)")
        for arguments in [["issue", "d2", "--out", folder.path("out")], ["batch", folder.path("rows.csv"), "--out", folder.path("out")],
                          ["revoke", "--thing", "d1"], ["crl", "publish"]] {
            let result = try run(arguments)
            #expect(result.status == CLIStatus.store.rawValue, "\(arguments): \(result.status) \(result.stderr)")
            #expect(result.stderr.hasPrefix("iotca: error: ") && result.stderr.contains("read-only"), "\(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1)
        }
        let listed = try run(["list", "--json"])
        #expect(listed.succeeded && listed.stdout.contains("d1"), "\(listed.stderr)")
        chmod(store.path, 0o700)
        _ = try ProcessRunner.run("/bin/chown", ["-R", "\(getuid()):\(getgid())", folder.url.path])
        let after = try snapshot()
        #expect(after == before, "\(before) \(after)")
    }
}
