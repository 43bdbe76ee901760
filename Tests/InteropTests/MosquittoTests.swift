import Foundation
import IoTCAKit
import Testing
import TestSupport

/// The whole revocation story against a real MQTT broker: mosquitto trusts the iotca CA, a
/// device publishes, and once it is revoked, the CRL published and the broker reloaded, the
/// same device is refused by the same broker (the control: it connected before).
@Suite struct MosquittoTests {
    @Test func brokerAcceptsAGoodDeviceAndRefusesARevokedOne() throws {
        try #require(Broker.isInstalled, "mosquitto is not installed: `apt-get install mosquitto mosquitto-clients` (.ci/run does)")
        let fixture = try TemporaryStore(encrypted: false)
        let server = try fixture.issue(IssueRequest(thing: "broker", template: "server", subjectAltNames: [try SubjectAltName("ip:127.0.0.1")]))
        let good = try fixture.issue(IssueRequest(thing: "device-good"))
        let listener = try fixture.issue(IssueRequest(thing: "device-listener"))
        let lost = try fixture.issue(IssueRequest(thing: "device-lost"))
        let service = RevocationService(keyring: fixture.keyring)
        _ = try service.publishAll()  // the broker needs a CRL to start with: an empty one

        // The broker sends its chain; it checks clients against root + issuing and the issuing CA's CRL.
        let folder = fixture.folder
        let fullChain = folder.appending("broker-fullchain.pem")
        let cas = folder.appending("cas.pem")
        let read = { (url: URL) throws -> String in try String(contentsOf: url, encoding: .utf8) }
        try Data((try read(server.folder.appendingPathComponent("cert.pem")) + read(server.folder.appendingPathComponent("chain.pem"))).utf8).write(to: fullChain)
        try Data((try read(fixture.store.layout.certificateFile(for: "root")) + read(fixture.store.layout.certificateFile(for: "issuing"))).utf8).write(to: cas)
        let broker = try Broker.mutualTLS(folder: folder.url, cafile: cas, certfile: fullChain, keyfile: server.folder.appendingPathComponent("key.pem"),
                                          crlfile: fixture.store.layout.publicFolder.appendingPathComponent("issuing.crl.pem"))
        defer { broker.stop() }

        func client(_ tool: String, _ device: IssueResult, _ arguments: [String], timeout: TimeInterval = 20) throws -> ProcessResult {
            try ProcessRunner.run(tool, [
                "-h", "127.0.0.1", "-p", "\(broker.port)", "--cafile", device.folder.appendingPathComponent("root.pem").path,
                "--cert", device.folder.appendingPathComponent("cert.pem").path,
                "--key", device.folder.appendingPathComponent("key.pem").path, "-i", device.entry.thing ?? "client",
            ] + arguments, timeout: timeout)
        }
        // Retained messages: the subscriber gets them whenever it connects, so there is no race.
        let published = try client("mosquitto_pub", good, ["-t", "fleet/good", "-m", "hello from device-good", "-r", "-q", "1"])
        #expect(published.succeeded, "\(published.stderr)")
        let received = try client("mosquitto_sub", listener, ["-t", "fleet/good", "-C", "1"])
        #expect(received.stdout == "hello from device-good\n", "\(received.stderr)")

        // Control: before its revocation, the device that will be lost connects and publishes.
        let before = try client("mosquitto_pub", lost, ["-t", "fleet/before", "-m", "still mine", "-r", "-q", "1"])
        #expect(before.succeeded, "\(before.stderr)")
        #expect(try client("mosquitto_sub", listener, ["-t", "fleet/before", "-C", "1"]).stdout == "still mine\n")

        _ = try service.revoke(.thing("device-lost"), reason: .keyCompromise)
        try broker.reload()
        let refused = try client("mosquitto_pub", lost, ["-t", "fleet/lost", "-m", "intruder", "-r", "-q", "1"])
        #expect(!refused.succeeded)
        // Nothing retained on the intruder's topic: the subscriber gets no message and is stopped after 3 s.
        let nothing = try client("mosquitto_sub", listener, ["-t", "fleet/lost", "-C", "1"], timeout: 3)
        #expect(nothing.stdout.isEmpty)
        // The broker refused the revoked device in the TLS handshake: it never got a session.
        let log = (try? String(contentsOf: broker.log, encoding: .utf8)) ?? ""
        #expect(log.contains("certificate verify failed"), "\(log)")
        #expect(log.contains("as device-good"), "\(log)")
        // One session for device-lost, the one before the revocation; none after the reload.
        let afterReload = log.components(separatedBy: "Reloading").last ?? ""
        #expect(log.contains("as device-lost") && !afterReload.contains("as device-lost"), "\(log)")
    }
}
