import Crypto
import Foundation
@testable import IoTCAKit
@testable import IoTCAService
import SwiftASN1
import Testing
import TestSupport
import X509

@Suite struct ServiceConfigurationTests {
    @Test func aFileOverridesTheDefaultsAndUnknownKeysAreRefused() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("iotca-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let good = folder.appendingPathComponent("good.json")
        try Data(#"{"api_listen":"[::1]:9443","limits":{"max_body_bytes":1024,"rate_limit":{"per_second":5,"burst":10}}}"#.utf8).write(to: good)
        let configuration = try ServiceConfiguration.load(good.path)
        #expect(configuration.apiListen == ListenAddress(host: "::1", port: 9443))
        #expect(configuration.publicListen == ListenAddress(host: "127.0.0.1", port: 8080))
        #expect(configuration.limits.maxBodyBytes == 1024 && configuration.limits.maxConcurrentRequests == 256)
        #expect(configuration.limits.rateLimit == .init(perSecond: 5, burst: 10))
        try configuration.validate()

        let typo = folder.appendingPathComponent("typo.json")
        try Data(#"{"limits":{"max_body_byte":1024}}"#.utf8).write(to: typo)
        #expect(throws: ServiceError.self) { try ServiceConfiguration.load(typo.path) }
        let wrongType = folder.appendingPathComponent("type.json")
        try Data(#"{"workers":"two"}"#.utf8).write(to: wrongType)
        #expect(throws: ServiceError.self) { try ServiceConfiguration.load(wrongType.path) }
        #expect(throws: ServiceError.self) { try ServiceConfiguration.load(folder.appendingPathComponent("missing.json").path) }
    }

    @Test func validationRefusesWhatCannotRun() {
        var configuration = ServiceConfiguration()
        configuration.tlsCertificate = "/etc/cert.pem"
        #expect(throws: ServiceError.self) { try configuration.validate() }
        configuration = ServiceConfiguration()
        configuration.limits.maxBodyBytes = 0
        #expect(throws: ServiceError.self) { try configuration.validate() }
        configuration = ServiceConfiguration()
        configuration.limits.rateLimit = .init(perSecond: 0, burst: 1)
        #expect(throws: ServiceError.self) { try configuration.validate() }
        configuration = ServiceConfiguration()
        configuration.serverName = "bad name"
        #expect(throws: ServiceError.self) { try configuration.validate() }
    }

    @Test(arguments: ["127.0.0.1:8443", "[::1]:0", "localhost:65535"])
    func listenAddressesRoundTrip(_ text: String) throws {
        #expect(try ListenAddress(text).description == text)
    }

    @Test(arguments: ["127.0.0.1", ":8443", "host:70000", "[::1]8443", "host:port"])
    func badListenAddressesAreRefused(_ text: String) {
        #expect(throws: ServiceError.self) { try ListenAddress(text) }
    }
}

@Suite struct ServiceBuildingBlockTests {
    @Test func theTokenBucketRefillsAtItsRate() {
        final class Time: @unchecked Sendable { var now = 100.0 }
        let time = Time()
        let limiter = RateLimiter(perSecond: 2, burst: 3, now: { time.now })
        #expect((0..<3).map { _ in limiter.take("a") } == [nil, nil, nil])
        #expect(limiter.take("a") == 1)  // empty: half a second to the next token, said as 1 s
        #expect(limiter.take("b") == nil)  // buckets are per client
        time.now += 0.5
        #expect(limiter.take("a") == nil)
        #expect(limiter.take("a") == 1)
        time.now += 10
        #expect((0..<3).map { _ in limiter.take("a") } == [nil, nil, nil])  // never more than the burst
        #expect(limiter.take("a") != nil)
    }

    @Test func httpDatesRoundTripAndOnlyTheFixedFormParses() throws {
        let date = Date(timeIntervalSince1970: 784_111_777)  // RFC 9110's example
        #expect(HTTPDate.format(date) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(HTTPDate.parse("Sun, 06 Nov 1994 08:49:37 GMT") == date)
        #expect(HTTPDate.parse("Sunday, 06-Nov-94 08:49:37 GMT") == nil)
        #expect(HTTPDate.parse("Sun, 06 Nov 1994 25:49:37 GMT") == nil)
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<1_000 {
            let second = Date(timeIntervalSince1970: TimeInterval(Int64.random(in: 0..<4_102_444_800, using: &generator)))  // to 2100
            #expect(HTTPDate.parse(HTTPDate.format(second)) == second, "\(second)")
        }
    }

    @Test func everyLibraryErrorKindHasAProblemAndBack() {
        for kind in ErrorKind.allCases {
            let name = Problem.Name(kind)
            #expect(name.kind == kind)
            #expect((400..<600).contains(name.status))
        }
        let problem = Problem(BatchBusy(out: "/tmp/out"))
        #expect(problem.status == 409 && problem.type == "urn:iotca:problem:conflict" && problem.name == .conflict)
        // An error that is not the library's says nothing about the server's internals.
        struct Secret: Error {}
        #expect(Problem(Secret()).detail == "The server failed; its log has the details.")
        // The client exits as the CLI would have locally.
        #expect(ServiceError.refused(problem).kind == .conflict)
        #expect(ServiceError.refused(Problem(.forbidden, detail: "")).kind == .forbidden)
        #expect(ServiceError.unreachable(url: "https://x", reason: "").kind == .unavailable)
        // A token that stays away after the one reconnection: 503 for that request, its CKR_ named.
        for code: UInt in [0xE0, 0x32, 0xB3, 0xB0] {
            let away = Problem(PKCS11Error.call(function: "C_SignInit", code: code))
            #expect(away.status == 503 && away.detail.contains("CKR_"), "\(away)")
        }
        #expect(Problem(AccessDenied(caller: "station line-7", reason: "revoke certificates: that is an operator's action")).status == 403)
    }

    @Test func theIssueAnswerWrittenAsBytesIsWhatItsEncodableFormEncodes() throws {
        let fixture = try TemporaryStore()
        let generated = try fixture.issue(IssueRequest(thing: "answer-1"))
        let csr = try CertificateSigningRequest(version: .v1, subject: try DistinguishedName { CommonName("x") },
                                                privateKey: .init(P256.Signing.PrivateKey()), attributes: .init(), signatureAlgorithm: .ecdsaWithSHA256)
        let fromCSR = try fixture.issue(IssueRequest(thing: "answer-2", csr: Array(try csr.serializeAsPEM().pemString.utf8)))
        for (result, superseded) in [(generated, []), (fromCSR, ["01AB", "02CD"])] {
            let answer = APIRoutes.IssueAnswer(bundle: result.bundle.jsonForm, certificate: result.entry, superseded: superseded)
            #expect(answer.compactJSON == Array(try JSONEncoder.iotcaCompact.encode(answer)))
        }
    }

    @Test func conditionalRequestsFollowRFC9110() {
        let modified = Date(timeIntervalSince1970: 1_000_000)
        #expect(PublicRoutes.notModified([.ifNoneMatch: "\"abc\""], etag: "\"abc\"", lastModified: modified))
        #expect(PublicRoutes.notModified([.ifNoneMatch: "\"x\", W/\"abc\""], etag: "\"abc\"", lastModified: modified))
        #expect(!PublicRoutes.notModified([.ifNoneMatch: "\"x\""], etag: "\"abc\"", lastModified: modified))
        // If-None-Match wins over If-Modified-Since.
        #expect(!PublicRoutes.notModified([.ifNoneMatch: "\"x\"", .ifModifiedSince: HTTPDate.format(modified)], etag: "\"abc\"",
                                          lastModified: modified))
        #expect(PublicRoutes.notModified([.ifModifiedSince: HTTPDate.format(modified)], etag: "\"abc\"", lastModified: modified))
        #expect(!PublicRoutes.notModified([.ifModifiedSince: HTTPDate.format(modified - 1)], etag: "\"abc\"", lastModified: modified))
    }
}

@Suite struct ClientAuthenticatorTests {
    /// The client's certificate as the TLS layer hands it over.
    func presented(_ folder: URL) throws -> (certificate: Certificate, der: [UInt8]) {
        let certificate = try Certificate(pemEncoded: try String(contentsOf: folder.appendingPathComponent("cert.pem"), encoding: .utf8))
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        return (certificate, serializer.serializedBytes)
    }

    /// On both engines: on a shared one the standing is read on a worker thread (`Workers.read`).
    @Test(arguments: TemporaryStore.Backend.allCases)
    func aRememberedChainIsStillHeldToItsDatesAndStatus(_ backend: TemporaryStore.Backend) async throws {
        let fixture = try TemporaryStore(backend: backend)
        let authority = CertificateAuthority(keyring: fixture.keyring)
        let clients = fixture.folder.appending("clients")
        _ = try authority.createClient("line1", role: .station, grants: [try ClientGrant(parsing: "device:line1-*")], into: clients)
        let station = try presented(clients.appendingPathComponent("line1"))
        let workers = Workers(keyring: fixture.keyring, threads: 1)
        let authenticator = ClientAuthenticator(store: fixture.store, serviceRoot: try fixture.store.authority(named: "service-root").certificate(),
                                                workers: workers)
        let identity = try await authenticator.identify(station)
        #expect(identity.role == .station && identity.name == "line1" && identity.grants.map(\.description) == ["device:line1-*"])
        #expect(try await authenticator.identify(station) == identity)  // the second time from the remembered chain
        // Past its notAfter: refused although its chain was remembered.
        fixture.clock.advance(by: 366 * 86_400)
        let expired = await #expect(throws: Problem.self) { try await authenticator.identify(station) }
        #expect(expired?.status == 401)
        fixture.clock.advance(by: -366 * 86_400)
        // Revoked: refused at once.
        _ = try authority.revoke(.thing("line1"))
        let revoked = await #expect(throws: Problem.self) { try await authenticator.identify(station) }
        #expect(revoked?.status == 401 && revoked?.detail.contains("revoked") == true)
        // A device's certificate validates but may call nothing.
        let device = try fixture.issue(IssueRequest(thing: "sensor-1"))
        let forbidden = await #expect(throws: Problem.self) { try await authenticator.identify(try presented(device.folder)) }
        #expect(forbidden?.status == 403)
        let none = await #expect(throws: Problem.self) { try await authenticator.identify(nil) }
        #expect(none?.status == 401)
        try await workers.shutdown()
    }

    @Test func aClientOfARevokedCAIsRefusedThoughItsChainWasRemembered() async throws {
        let fixture = try TemporaryStore()
        let authority = CertificateAuthority(keyring: fixture.keyring)
        // Clients come from the service's CA alone: that CA is the one revoked.
        let edge = try authority.authority(named: "service")
        let clients = fixture.folder.appending("clients")
        _ = try authority.createClient("alice", role: .operator, grants: [], into: clients)
        let alice = try presented(clients.appendingPathComponent("alice"))
        let workers = Workers(keyring: fixture.keyring, threads: 1)
        let authenticator = ClientAuthenticator(store: fixture.store, serviceRoot: try fixture.store.authority(named: "service-root").certificate(),
                                                workers: workers)
        #expect(try await authenticator.identify(alice).role == .operator)
        let edgeSerial = SerialNumber(bytes: Array(try edge.certificate().serialNumber.bytes))
        _ = try authority.revoke(.serial(edgeSerial, authority: "service-root"))
        let refused = await #expect(throws: Problem.self) { try await authenticator.identify(alice) }
        #expect(refused?.status == 401 && refused?.detail.contains("service") == true)
        try await workers.shutdown()
    }

    /// A database writer who swaps the service's CAs in the rows for CAs of their own (and so
    /// could add client rows under them) is not trusted: a client's chain must end at the node's
    /// pinned service root, which `init` wrote beside the database.
    @Test func aServiceHierarchyWrittenIntoTheDatabaseIsNotTrusted() async throws {
        let fixture = try TemporaryStore(), attacker = try TemporaryStore()
        let pin = ServiceRootPin(folder: fixture.storeURL)
        #expect(try pin.read() == (try fixture.store.authority(named: "service-root").certificateDER))
        let clients = attacker.folder.appending("clients")
        _ = try CertificateAuthority(keyring: attacker.keyring).createClient("mallory", role: .operator, grants: [], into: clients)
        let mallory = try presented(clients.appendingPathComponent("mallory"))
        for name in ["service-root", "service"] {
            let forged = try #require(try attacker.store.authority(named: name).certificateDER)
            try fixture.store.write { db in
                _ = try db.execute("UPDATE authorities SET certificate_der = ? WHERE name = ?", forged, name)
            }
        }
        let workers = Workers(keyring: fixture.keyring, threads: 1)
        let authenticator = ClientAuthenticator(store: fixture.store, serviceRoot: try Certificate(derEncoded: try #require(try pin.read())),
                                                workers: workers)
        // The rows now vouch for mallory's chain; the pin does not.
        try await authenticator.validateChain(mallory, to: .store)
        let refused = await #expect(throws: Problem.self) { try await authenticator.validateChain(mallory, to: .service) }
        #expect(refused?.status == 401 && refused?.detail.contains(ServiceRootPin.fileName) == true, "\(String(describing: refused))")
        let identified = await #expect(throws: Problem.self) { try await authenticator.identify(mallory) }
        #expect(identified?.status == 403 && identified?.detail.contains("pinned service root") == true)
        // The node reports the change: its pin no longer matches the database.
        let anchor = try pin.anchor(store: fixture.store)
        #expect(anchor.origin == .file && !anchor.matchesStore)
        try await workers.shutdown()
    }

    /// A node without a pin (a second node of a shared store) takes the database's on its first
    /// start and keeps it; a pin that is not a certificate is an error, never ignored.
    @Test func aNodeWithoutAPinPinsTheDatabasesServiceRootOnce() throws {
        let fixture = try TemporaryStore()
        let node = fixture.folder.appending("node-2")
        try FileManager.default.createDirectory(at: node, withIntermediateDirectories: true)
        let pin = ServiceRootPin(folder: node)
        let first = try pin.anchor(store: fixture.store)
        #expect(first.origin == .pinnedNow && first.matchesStore)
        #expect(first.der == (try fixture.store.authority(named: "service-root").certificateDER))
        let second = try pin.anchor(store: fixture.store)
        #expect(second.origin == .file && second.der == first.der)
        try Data("not a certificate".utf8).write(to: pin.file)
        #expect(throws: StoreError.self) { try pin.anchor(store: fixture.store) }
    }

    /// A database writer who changes a device's row to an operator's does not make a client:
    /// the role is read from the certificate itself, issued by the service's CA.
    @Test func aRowMadeAnOperatorIsNotOne() async throws {
        let fixture = try TemporaryStore()
        let device = try fixture.issue(IssueRequest(thing: "sensor-1"))
        try fixture.store.write { db in
            _ = try db.execute("UPDATE certificates SET template = 'operator' WHERE serial = ?", device.entry.serial.hex)
        }
        let workers = Workers(keyring: fixture.keyring, threads: 1)
        let authenticator = ClientAuthenticator(store: fixture.store, serviceRoot: try fixture.store.authority(named: "service-root").certificate(),
                                                workers: workers)
        let refused = await #expect(throws: Problem.self) { try await authenticator.identify(try presented(device.folder)) }
        #expect(refused?.status == 403 && refused?.detail.contains("pinned service root") == true, "\(String(describing: refused))")
        try await workers.shutdown()
    }

}

/// The matter format through `--server`: the client writes DAC files only for an answer that is
/// a DAC, whatever template the server answered for.
@Suite struct RemoteMatterAnswerTests {
    /// The API's answer for an issuance, as `POST /v1/certificates` sends it.
    static func answer(_ result: IssueResult) throws -> APIClient.Issued {
        var object = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(result.bundle.jsonForm)) as? [String: Any])
        object["certificate"] = try JSONSerialization.jsonObject(with: JSONEncoder().encode(result.entry))
        object["superseded"] = [String]()
        return try JSONDecoder().decode(APIClient.Issued.self, from: JSONSerialization.data(withJSONObject: object))
    }

    @Test func aHostileAnswerThatIsNoDACIsRefusedAndNothingWritten() throws {
        let plain = try TemporaryStore(encrypted: false)
        let device = try plain.provisioner.issue(IssueRequest(thing: "light-1"), bundleParent: plain.bundles, format: .json)
        let out = plain.folder.appending("line")
        #expect(throws: AnswerRejected.self) {
            _ = try RemoteProvisioner.write(try Self.answer(device), thing: "light-1", csr: nil, format: .matter, out: out, replace: false,
                                            passphrase: nil, durable: false)
        }
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("light-1").path))

        let matter = try TemporaryStore(encrypted: false, matter: MatterIdentity(vendorID: MatterID(0xFFF1), productID: MatterID(0x8000)))
        let dac = try matter.provisioner.issue(IssueRequest(thing: "light-2", template: "matter-dac"), bundleParent: matter.bundles, format: .json)
        let written = try RemoteProvisioner.write(try Self.answer(dac), thing: "light-2", csr: nil, format: .matter, out: out, replace: false,
                                                  passphrase: nil, durable: false)
        #expect(written.bundle.manifest.files == ["dac_cert.der", "dac_key.der", "pai_cert.der", "paa_cert.der", "manifest.json"])
        #expect(Array(try Data(contentsOf: out.appendingPathComponent("light-2/dac_cert.der"))) == dac.entry.der)
    }
}
