import Foundation
import IoTCAKit
import Testing
import TestSupport

/// `station create`, `station grant` and `operator create` run twice, twice at once, and the
/// remote batch's one-at-a-time rule.
@Suite struct ClientCommandTests {
    func environment(_ fixture: TemporaryStore) -> [String: String] {
        ["IOTCA_PASSPHRASE": TemporaryStore.passphrase, "IOTCA_STORE": fixture.storeURL.path]
    }

    @Test func aStationCreatedTwiceIsAConflictAndKeepsItsGrants() throws {
        let fixture = try TemporaryStore()
        let out = fixture.folder.path("clients")
        let first = try ProcessRunner.run(ProcessRunner.iotcaExecutable, ["station", "create", "line1", "--grant", "device:line1-*", "--out", out],
                                          environment: environment(fixture))
        #expect(first.succeeded, "\(first.stderr)")
        let bundle = try Data(contentsOf: fixture.folder.appending("clients/line1/cert.pem"))
        let again = try ProcessRunner.run(ProcessRunner.iotcaExecutable, ["station", "create", "line1", "--grant", "server", "--out", out],
                                          environment: environment(fixture))
        #expect(again.status == 7, "\(again.stderr)")
        // Nothing of the second run took: grants, certificate and bundle are the first's.
        #expect(try fixture.store.grants(of: "line1").map(\.description) == ["device:line1-*"])
        #expect(try fixture.store.certificates(CertificateFilter(thing: "line1")).count == 1)
        #expect(try Data(contentsOf: fixture.folder.appending("clients/line1/cert.pem")) == bundle)
        // Granting twice is the same as once.
        for _ in 0..<2 {
            #expect(try ProcessRunner.run(ProcessRunner.iotcaExecutable, ["station", "grant", "line1", "--grant", "device:line1-*", "--grant", "device:spare-?"],
                                          environment: environment(fixture)).succeeded)
        }
        #expect(try fixture.store.grants(of: "line1").map(\.description) == ["device:line1-*", "device:spare-?"])
        #expect(try ProcessRunner.run(ProcessRunner.iotcaExecutable, ["station", "grant", "nobody", "--grant", "device"],
                                      environment: environment(fixture)).status == 8)
    }

    @Test func twoStationCreatesAtOnceMakeOneStation() throws {
        let fixture = try TemporaryStore()
        // Two folders, so the race is decided by the store, not by the bundle folder.
        var statuses: [Int32] = []
        for round in 0..<4 {
            let out = fixture.folder.path("clients-\(round)")
            statuses = try ProcessRunner.race(ProcessRunner.iotcaExecutable,
                                              ["station", "create", "race-\(round)", "--grant", "device", "--out", out],
                                              environment: environment(fixture))
            #expect(statuses == [0, 7], "round \(round): \(statuses)")
            #expect(try fixture.store.certificates(CertificateFilter(thing: "race-\(round)", status: .active)).count == 1)
            #expect(try fixture.store.grants(of: "race-\(round)").map(\.description) == ["device:*"])
        }
    }

    @Test func aStationCreateKilledBeforeItsGrantsLeavesAStationThatMayDoNothing() throws {
        // The certificate is recorded and written before the grants: a kill between the two
        // leaves a station without grants, which the service lets issue nothing; `station
        // grant` finishes the job. (The same state as a create whose grants step failed.)
        let fixture = try TemporaryStore()
        let authority = CertificateAuthority(keyring: fixture.keyring)
        _ = try authority.issue(IssueRequest(thing: "line1", authority: "service", template: "station"), into: fixture.folder.appending("clients"))
        #expect(try fixture.store.grants(of: "line1").isEmpty)
        let again = try ProcessRunner.run(ProcessRunner.iotcaExecutable, ["station", "grant", "line1", "--grant", "device:line1-*"],
                                          environment: environment(fixture))
        #expect(again.succeeded, "\(again.stderr)")
        #expect(try fixture.store.grants(of: "line1").map(\.description) == ["device:line1-*"])
    }

    @Test func aSecondRemoteBatchIntoTheSameFolderIsRefusedBeforeAnyRequest() throws {
        let fixture = try TemporaryStore()
        let out = fixture.folder.appending("out")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        // Hold the lock a running remote batch holds; no server is needed: the lock comes first.
        let lock = out.appendingPathComponent(".iotca-batch-dir.lock").path
        let descriptor = open(lock, O_RDWR | O_CREAT, 0o600)
        #expect(descriptor >= 0 && flock(descriptor, LOCK_EX | LOCK_NB) == 0)
        defer { close(descriptor) }
        try Data("thing\nd-1\n".utf8).write(to: fixture.folder.appending("f.csv"))
        let clients = fixture.folder.appending("clients")
        _ = try CertificateAuthority(keyring: fixture.keyring).createClient("line1", role: .station, grants: [try ClientGrant(parsing: "device")],
                                                                           into: clients)
        let busy = try ProcessRunner.run(ProcessRunner.iotcaExecutable, [
            "batch", fixture.folder.path("f.csv"), "--out", out.path, "--server", "https://127.0.0.1:1",
            "--client-cert", clients.path + "/line1/cert.pem", "--client-key", clients.path + "/line1/key.pem",
            "--server-ca", clients.path + "/line1/root.pem",
        ], environment: [:])
        #expect(busy.status == 7, "\(busy.stderr)")
        #expect(busy.stderr.contains("another iotca batch"))
    }
}
