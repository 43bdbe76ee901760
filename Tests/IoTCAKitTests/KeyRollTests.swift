import Foundation
import IoTCAKit
import Testing
import TestSupport

/// A server template prepares the key that succeeds each key: renewals roll onto it (clients
/// hold its pin as a backup), keep the key, or take a new one; a missing or foreign key file
/// is refused before anything is issued.
@Suite struct KeyRollTests {
    let fixture: TemporaryStore
    init() throws { fixture = try TemporaryStore(encrypted: false) }

    func renew(_ key: RenewalKey) throws -> IssueResult {
        try fixture.issue(IssueRequest(thing: "gw", template: "server", renew: true, renewalKey: key))
    }
    func spki(_ result: IssueResult) -> String { result.entry.spkiSHA256 }
    var folder: URL { fixture.bundles.appendingPathComponent("gw") }
    func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    @Test func renewalsRollOntoThePreparedKeyKeepItOrTakeANewOne() throws {
        let first = try fixture.issue(IssueRequest(thing: "gw", template: "server"))
        let next = try #require(first.bundle.manifest.nextSPKISHA256)
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("next-key.pem").path))
        var pins = try CertificateAuthority(keyring: fixture.keyring).pins(ofThing: "gw")
        #expect(pins.map(\.role) == [.leaf, .backup] && hex(pins[1].spkiSHA256) == next)

        let rolled = try renew(.next)
        #expect(spki(rolled) == next && rolled.bundle.manifest.nextSPKISHA256 != next)
        let kept = try renew(.keep)
        #expect(spki(kept) == next && kept.bundle.manifest.nextSPKISHA256 == rolled.bundle.manifest.nextSPKISHA256)
        let fresh = try renew(.new)
        #expect(spki(fresh) != next && fresh.bundle.manifest.nextSPKISHA256 != rolled.bundle.manifest.nextSPKISHA256)
        pins = try CertificateAuthority(keyring: fixture.keyring).pins(ofThing: "gw")
        // Three active certificates on two keys, and the newest one's prepared key.
        #expect(pins.filter { $0.role == .leaf }.count == 3 && pins.last.map { hex($0.spkiSHA256) } == fresh.bundle.manifest.nextSPKISHA256)
        #expect(try fixture.store.activeSerials(thing: "gw").count == 4)
    }

    @Test func aMissingOrForeignKeyFileIsRefusedWithNothingIssued() throws {
        _ = try fixture.issue(IssueRequest(thing: "gw", template: "server"))
        let prepared = folder.appendingPathComponent("next-key.pem")
        let saved = try Data(contentsOf: prepared)
        try FileManager.default.removeItem(at: prepared)
        #expect(throws: KeyRollError.self) { try renew(.next) }
        // Another key in its place: not the one clients pinned.
        try Data(contentsOf: folder.appendingPathComponent("key.pem")).write(to: prepared)
        #expect(throws: KeyRollError.self) { try renew(.next) }
        try FileManager.default.removeItem(at: folder.appendingPathComponent("key.pem"))
        #expect(throws: KeyRollError.self) { try renew(.keep) }
        #expect(try fixture.store.activeSerials(thing: "gw").count == 1)
        try saved.write(to: prepared)
        _ = try renew(.next)
        #expect(try fixture.store.activeSerials(thing: "gw").count == 2)
    }

    @Test func devicesPrepareNoKeyAndCATemplatesMayNot() throws {
        let device = try fixture.issue(IssueRequest(thing: "meter"))
        #expect(device.bundle.manifest.nextSPKISHA256 == nil && !device.bundle.manifest.files.contains("next-key.pem"))
        var template = try CertificateAuthority.template("subordinate-ca", store: fixture.location)
        template.nextKey = true
        #expect(throws: PolicyError.self) { try template.validate(source: "test") }
    }
}
