import Foundation
@testable import IoTCAKit
import Testing
import TestSupport

/// `iotca batch --format jsonl`: one `--format json` object per line, lines appended and synced
/// before their rows are marked written, so a kill at any moment leaves whole lines whose
/// certificates are recorded and a re-run resumes without a second line for a delivered thing.
@Suite struct BatchJSONLinesTests {
    static func csv(_ count: Int) -> String { "thing\n" + (1...count).map { String(format: "j-%05d", $0) }.joined(separator: "\n") + "\n" }

    struct Line: Decodable {
        struct Manifest: Decodable { let serial: String }
        let thing: String
        let certificate_pem: String
        let private_key_pem: String?
        let chain_pem: String
        let root_pem: String
        let manifest: Manifest
    }

    static func lines(_ url: URL) throws -> [Line] {
        let data = try Data(contentsOf: url)
        #expect(data.last == 0x0A, "the file ends inside a line")
        return try data.split(separator: 0x0A).map { try JSONDecoder().decode(Line.self, from: Data($0)) }
    }

    @Test func eachLineIsABundleThatVerifiesAndAReRunAddsNothing() throws {
        let fixture = try TemporaryStore(encrypted: false)
        let file = fixture.folder.appending("rows.csv")
        try Data(Self.csv(20).utf8).write(to: file)
        let out = fixture.folder.appending("bundles.jsonl")
        var options = BatchOptions()
        options.format = .jsonl
        let report = try BatchRunner(keyring: fixture.keyring).run(file: file, out: out, options: options)
        #expect(report.issued == 20 && report.failed == 0)
        let lines = try Self.lines(out)
        #expect(lines.map(\.thing) == (1...20).map { String(format: "j-%05d", $0) })
        var mode = stat()
        #expect(stat(out.path, &mode) == 0 && mode.st_mode & 0o777 == 0o600, "the lines hold private keys")
        for line in lines.prefix(3) {
            let folder = fixture.folder.appending(line.thing)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for (text, name) in [(line.certificate_pem, "cert.pem"), (line.chain_pem, "chain.pem"), (line.root_pem, "root.pem"), (line.private_key_pem ?? "", "key.pem")] {
                try Data(text.utf8).write(to: folder.appendingPathComponent(name))
            }
            #expect(try OpenSSLCLI.verifyBundle(folder).succeeded)
        }
        let recorded = try fixture.store.certificates(CertificateFilter(status: .active))
        #expect(Set(recorded.map(\.serial.hex)) == Set(lines.map(\.manifest.serial)) && recorded.allSatisfy { $0.delivery == .written })
        let before = try Data(contentsOf: out)
        #expect(try BatchRunner(keyring: fixture.keyring).run(file: file, out: out, options: options).skipped == 20)
        #expect(try Data(contentsOf: out) == before)
    }

    @Test func aLineWrittenBeforeTheKillIsKeptAndACutLineIsRemoved() throws {
        let fixture = try TemporaryStore(encrypted: false)
        let file = fixture.folder.appending("rows.csv")
        try Data(Self.csv(3).utf8).write(to: file)
        let out = fixture.folder.appending("bundles.jsonl")
        var options = BatchOptions()
        options.format = .jsonl
        let runner = BatchRunner(keyring: fixture.keyring)
        _ = try runner.run(file: file, out: out, options: options)
        // As if killed after j-00001's line was synced but before its row was marked, and
        // again in the middle of writing another line.
        let first = try #require(try fixture.store.certificates(CertificateFilter(thing: "j-00001")).first)
        try fixture.store.setDelivery(.recorded, thing: "j-00001", serial: first.serial)
        let handle = try FileHandle(forWritingTo: out)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(#"{"certificate_pem":"-----BEGIN CERT"#.utf8))
        try handle.close()
        let again = try runner.run(file: file, out: out, options: options)
        #expect(again.skipped == 3 && again.recovered == 0)
        #expect(try fixture.store.certificates(CertificateFilter(status: .revoked)).isEmpty)
        #expect(try Self.lines(out).count == 3)
        #expect(try fixture.store.certificates(CertificateFilter(thing: "j-00001")).first?.delivery == .written)
    }

    @Test func aBatchKilledHalfWayResumesWithTheLastLineOfEachThingItsActiveCertificate() throws {
        let fixture = try TemporaryStore(encrypted: false)
        let file = fixture.folder.appending("rows.csv")
        let count = 4_000
        try Data(Self.csv(count).utf8).write(to: file)
        let folder = fixture.folder.appending("out")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let out = folder.appendingPathComponent("bundles.jsonl")
        var environment = fixture.processEnvironment
        environment["IOTCA_STORE"] = fixture.storeURL.path
        let pid = try Spawn.start(ProcessRunner.iotcaExecutable, ["batch", file.path, "--format", "jsonl", "--out", out.path],
                                  environment: environment, stdout: fixture.folder.appending("batch.out"), stderr: fixture.folder.appending("batch.err"))
        _ = FileWatch.wait(in: folder, timeout: 10) {
            ((try? Data(contentsOf: out)) ?? Data()).count > 600 * 3_000 || kill(pid, 0) != 0
        }
        Spawn.stop(pid, signal: SIGKILL)
        let cut = try Self.lines(out).count
        #expect(cut > 0 && cut < count, "killed after \(cut) lines: nothing was tested")

        let report = try BatchRunner(keyring: fixture.keyring).run(file: file, out: out, options: {
            var options = BatchOptions()
            options.format = .jsonl
            return options
        }())
        #expect(report.failed == 0 && report.skipped + report.issued + report.recovered == count)
        let lines = try Self.lines(out)
        var last: [String: String] = [:]
        for line in lines { last[line.thing] = line.manifest.serial }
        let active = try fixture.store.certificates(CertificateFilter(status: .active))
        #expect(active.count == count && last.count == count)
        for entry in active { #expect(last[entry.thing ?? ""] == entry.serial.hex && entry.delivery == .written) }
        // One line per thing: a line in the file before the kill is kept (its row marked now);
        // a certificate recorded whose line never got there is issued again, the first revoked.
        #expect(lines.count == count)
        let revoked = try fixture.store.certificates(CertificateFilter(status: .revoked))
        #expect(revoked.allSatisfy { $0.revocationReason == "superseded" } && revoked.count == report.recovered)
    }

    /// Through `iotca serve`: a station's batch writes the lines, each synced before its
    /// delivery is confirmed; a re-run (and one after its confirmations were lost) adds nothing.
    @Test func aStationWritesTheSameLinesThroughTheServer() throws {
        let fixture = try ServiceTests.Fixture()
        let work = fixture.store.folder.url
        let rows = work.appendingPathComponent("rows.csv")
        try Data(("thing\n" + (1...20).map { String(format: "line1-%04d", $0) }.joined(separator: "\n") + "\n").utf8).write(to: rows)
        let out = work.appendingPathComponent("station/bundles.jsonl")
        let station = ServiceTests().remote(fixture, as: "line1")
        let first = try ProcessRunner.run(ProcessRunner.iotcaExecutable, ["batch", rows.path, "--format", "jsonl", "--out", out.path],
                                          environment: station, directory: work)
        #expect(first.succeeded, "\(first.stderr)")
        let lines = try Self.lines(out)
        #expect(Set(lines.map(\.thing)).count == 20 && lines.count == 20)
        let recorded = try fixture.store.store.certificates(CertificateFilter(status: .active)).filter { ($0.thing ?? "").hasPrefix("line1-") }
        #expect(Set(recorded.map(\.serial.hex)) == Set(lines.map(\.manifest.serial)) && recorded.allSatisfy { $0.delivery == .written })
        // As if the client died after writing line1-0001's line, before confirming it.
        let one = try #require(recorded.first { $0.thing == "line1-0001" })
        try fixture.store.store.setDelivery(.recorded, thing: "line1-0001", serial: one.serial)
        let again = try ProcessRunner.run(ProcessRunner.iotcaExecutable, ["batch", rows.path, "--format", "jsonl", "--out", out.path],
                                          environment: station, directory: work)
        #expect(again.succeeded && again.stdout.contains("0 issued, 20 skipped"), "\(again.stdout)\(again.stderr)")
        #expect(try Self.lines(out).count == 20)
        #expect(try fixture.store.store.certificates(CertificateFilter(thing: "line1-0001")).first?.delivery == .written)
        #expect(try fixture.store.store.certificates(CertificateFilter(status: .revoked)).isEmpty)
    }
}
