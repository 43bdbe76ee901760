import Foundation
import IoTCAKit
import Testing
import TestSupport

/// `broker-config`: what it writes, that a second run changes nothing, and that it refuses
/// (with nothing written) what would change a configuration's meaning or replace a file.
@Suite struct BrokerConfigurationTests {
    let fixture: TemporaryStore
    let authority: CertificateAuthority
    var out: URL { fixture.folder.appending("broker") }

    init() throws {
        fixture = try TemporaryStore(encrypted: false)
        authority = CertificateAuthority(keyring: fixture.keyring)
    }

    func setup(_ servers: [BrokerSetup.Server] = [.mosquitto, .nginx], force: Bool = false) throws -> BrokerSetup {
        BrokerSetup(servers: servers, folder: out, subjectAltNames: [try SubjectAltName("ip:127.0.0.1")], bindAddress: "127.0.0.1",
                    reloadCommands: [.mosquitto: "true", .nginx: "true"], force: force, setOnPublish: true)
    }

    func text(_ name: String) throws -> String { try String(contentsOf: out.appendingPathComponent(name), encoding: .utf8) }

    @Test func writesEveryFileOnceAndASecondRunChangesNothing() throws {
        let first = try authority.writeBrokerConfiguration(try setup())
        #expect(first.issuedServerCertificate && first.crlAuthorities == ["issuing", "root"])
        #expect(first.files.allSatisfy { $0.change == .written } && first.files.count == 6)
        #expect(first.onPublishSet == ["issuing", "root"])
        #expect(try authority.authority(named: "root").onPublish == first.onPublishCommand)

        let mosquitto = try text("mosquitto.conf"), nginx = try text("nginx.conf"), script = try text("reload-crls")
        #expect(mosquitto.contains("require_certificate true") && mosquitto.contains("use_identity_as_username true")
                && mosquitto.contains("crlfile \(out.path)/crl-chain.pem") && mosquitto.contains("listener 9001 127.0.0.1\nsocket_domain ipv4"))
        #expect(nginx.contains("ssl_verify_client on;") && nginx.contains("ssl_crl \(out.path)/crl-chain.pem;")
                && nginx.contains("proxy_set_header Upgrade $http_upgrade;") && nginx.contains("listen 127.0.0.1:443 ssl;")
                && nginx.contains("ssl_verify_depth 2;"))
        #expect(script.contains("/public/issuing.crl.pem") && script.contains("/public/root.crl.pem"))
        // Both CAs' CRLs, in one file the servers read.
        #expect(try text("crl-chain.pem").components(separatedBy: "-----BEGIN X509 CRL-----").count - 1 == 2)
        let verified = try OpenSSLCLI.run(["verify", "-x509_strict", "-crl_check_all", "-CAfile", out.appendingPathComponent("ca-chain.pem").path,
                                           "-CRLfile", out.appendingPathComponent("crl-chain.pem").path,
                                           out.appendingPathComponent("broker/cert.pem").path])
        #expect(verified.succeeded, "\(verified.stdout) \(verified.stderr)")

        let second = try authority.writeBrokerConfiguration(try setup())
        #expect(!second.issuedServerCertificate && second.serverCertificate.serial == first.serverCertificate.serial)
        #expect(second.files.allSatisfy { $0.change == .unchanged } && second.onPublishSet.isEmpty)
    }

    @Test func refusesToReplaceAChangedFileWithoutForceAndWritesNothing() throws {
        _ = try authority.writeBrokerConfiguration(try setup())
        let edited = "# the operator's own edit\n"
        try Data(edited.utf8).write(to: out.appendingPathComponent("nginx.conf"))
        var other = try setup()
        other.httpsPort = 9443
        let mosquittoBefore = try text("mosquitto.conf")
        #expect(throws: BrokerSetupError.wouldReplace([out.appendingPathComponent("nginx.conf").path])) {
            try authority.writeBrokerConfiguration(other)
        }
        #expect(try text("nginx.conf") == edited)
        #expect(try text("mosquitto.conf") == mosquittoBefore)
        other.force = true
        let forced = try authority.writeBrokerConfiguration(other)
        #expect(forced.files.contains { $0.path == out.appendingPathComponent("nginx.conf").path && $0.change == .replaced })
        #expect(try text("nginx.conf").contains("127.0.0.1:9443 ssl;"))
    }

    @Test func anotherOnPublishCommandIsKeptWithoutForce() throws {
        _ = try authority.configureCA("issuing", onPublish: "systemctl reload my-gateway")
        #expect(throws: BrokerSetupError.self) { try authority.writeBrokerConfiguration(try setup()) }
        #expect(!FileManager.default.fileExists(atPath: out.path))
        #expect(try authority.authority(named: "issuing").onPublish == "systemctl reload my-gateway")
        #expect(try fixture.store.activeSerials(thing: "broker").isEmpty, "nothing issued before the refusal")
    }

    @Test func aServerCertificateWhoseKeyIsElsewhereIsNotReplacedSilently() throws {
        _ = try fixture.issue(IssueRequest(thing: "broker", template: "server"))
        #expect(throws: BrokerSetupError.serverKeyElsewhere(thing: "broker", serial: try fixture.store.activeSerials(thing: "broker")[0].hex,
                                                            folder: out.path)) {
            try authority.writeBrokerConfiguration(try setup())
        }
        #expect(!FileManager.default.fileExists(atPath: out.path))
        let renewed = try authority.writeBrokerConfiguration(try setup(force: true))
        #expect(renewed.issuedServerCertificate)
        #expect(try fixture.store.activeSerials(thing: "broker").count == 2)
    }

    @Test(arguments: [
        ("/tmp/has space", "folder"), ("/tmp/semi;colon", "folder"), ("/tmp/brace{", "folder"), ("/tmp/quote'", "folder"),
    ]) func refusesPathsThatWouldChangeAConfiguration(path: String, what: String) throws {
        var bad = try setup()
        bad.folder = URL(fileURLWithPath: path)
        #expect(throws: BrokerSetupError.unsafeValue(what: what, value: path,
                                                     reason: "spaces, quotes and ; { } # $ \\ are not allowed in paths here")) {
            try authority.writeBrokerConfiguration(bad)
        }
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    /// Debian's mosquitto reads its key as the user mosquitto: the key's group may read it.
    @Test func theServersKeyCanBeSharedWithAGroupAndAnUnknownOneIsRefused() throws {
        var shared = try setup()
        shared.keyGroup = "no-such-group-here"
        #expect(throws: BrokerSetupError.unknownGroup("no-such-group-here")) { try authority.writeBrokerConfiguration(shared) }
        #expect(!FileManager.default.fileExists(atPath: out.path))
        let group = try #require(getgrgid(getgid())).pointee
        shared.keyGroup = String(cString: group.gr_name)
        _ = try authority.writeBrokerConfiguration(shared)
        for (path, mode) in [(out.appendingPathComponent("broker").path, 0o750), (out.appendingPathComponent("broker/key.pem").path, 0o640),
                             (out.appendingPathComponent("broker/next-key.pem").path, 0o640)] {
            var info = stat()
            #expect(stat(path, &info) == 0 && Int(info.st_mode & 0o777) == mode && info.st_gid == group.gr_gid, "\(path)")
        }
    }

    @Test func refusesHostileNamesAndClashingPorts() throws {
        var bad = try setup()
        bad.serverName = "example.com; return 200 owned"
        #expect(throws: BrokerSetupError.self) { try authority.writeBrokerConfiguration(bad) }
        bad = try setup()
        bad.httpsUpstream = "http://app\n}\nserver {"
        #expect(throws: BrokerSetupError.self) { try authority.writeBrokerConfiguration(bad) }
        bad = try setup()
        bad.httpsPort = bad.wssPort
        #expect(throws: BrokerSetupError.self) { try authority.writeBrokerConfiguration(bad) }
        bad = try setup()
        bad.mqttPort = 70_000
        #expect(throws: BrokerSetupError.self) { try authority.writeBrokerConfiguration(bad) }
        bad = try setup()
        bad.servers = []
        #expect(throws: BrokerSetupError.noServers) { try authority.writeBrokerConfiguration(bad) }
        #expect(!FileManager.default.fileExists(atPath: out.path))
        #expect(try fixture.store.activeSerials(thing: "broker").isEmpty)
    }
}
