import Foundation
@testable import IoTCAKit
import Testing
import TestSupport

/// A batch re-run must never revoke what users already hold (issue 10, item 1), and a batch file
/// must not reach outside its job (item 6).
@Suite struct BatchSafetyTests {
    func csv(_ things: [String]) -> String { "thing\n" + things.joined(separator: "\n") + "\n" }

    func revoked(_ fixture: TemporaryStore) throws -> [CertificateEntry] {
        try fixture.store.certificates(CertificateFilter(status: .revoked))
    }

    @Test func reRunsIntoAnotherFolderOrFormatOrAfterTheBundlesLeftRevokeNothing() throws {
        let fixture = try TemporaryStore(encrypted: false)
        let file = fixture.folder.appending("line.csv")
        try Data(csv(["d-1", "d-2", "d-3"]).utf8).write(to: file)
        let runner = BatchRunner(keyring: fixture.keyring)
        let first = try runner.run(file: file, out: fixture.folder.appending("out1"), options: BatchOptions())
        #expect(first.issued == 3)
        let crl = try RevocationService(keyring: fixture.keyring).publish("issuing")
        let crlFile = try Data(contentsOf: RevocationService(keyring: fixture.keyring).crlFiles(of: "issuing").der)
        #expect(try fixture.store.certificates(CertificateFilter(status: .active)).allSatisfy { $0.delivery == .written })

        // Another folder, another format, and the same folder after the bundles went to the devices.
        let another = try runner.run(file: file, out: fixture.folder.appending("out2"), options: BatchOptions())
        var zip = BatchOptions()
        zip.format = .zip
        let otherFormat = try runner.run(file: file, out: fixture.folder.appending("out1"), options: zip)
        try FileManager.default.removeItem(at: fixture.folder.appending("out1"))
        let moved = try runner.run(file: file, out: fixture.folder.appending("out1"), options: BatchOptions())
        for report in [another, otherFormat, moved] {
            #expect(report.skipped == 3 && report.issued == 0 && report.recovered == 0 && report.failed == 0)
        }
        #expect(try revoked(fixture).isEmpty)
        #expect(try fixture.store.latestCRL(of: "issuing")?.number == crl?.number)
        #expect(try Data(contentsOf: RevocationService(keyring: fixture.keyring).crlFiles(of: "issuing").der) == crlFile)
        #expect(!FileManager.default.fileExists(atPath: fixture.folder.path("out2/d-1")))
    }

    @Test func onlyACertificateRecordedForThisOutputAndNeverWrittenIsRecovered() throws {
        let fixture = try TemporaryStore(encrypted: false)
        let file = fixture.folder.appending("line.csv")
        try Data(csv(["d-1", "d-2"]).utf8).write(to: file)
        let out = fixture.folder.appending("out")
        // d-2's place is taken by a file, so its bundle cannot be written: recorded, not written.
        try FileManager.default.createDirectory(at: out.appendingPathComponent("d-2"), withIntermediateDirectories: true)
        try Data("in the way".utf8).write(to: out.appendingPathComponent("d-2/blocker"))
        let runner = BatchRunner(keyring: fixture.keyring)
        let first = try runner.run(file: file, out: out, options: BatchOptions())
        #expect(first.issued == 1 && first.failed == 1)
        let stranded = try #require(try fixture.store.certificates(CertificateFilter(thing: "d-2")).first)
        #expect(stranded.delivery == .recorded && stranded.status == .active)
        // doctor reports it once it is no longer a batch in flight (ten minutes on the clock).
        #expect(try !Doctor(store: fixture.store).examine().findings.contains { $0.check == "delivery" })
        fixture.clock.advance(by: 601)
        #expect(try Doctor(store: fixture.store).examine().findings.contains { $0.check == "delivery" && $0.subject == "d-2" })
        fixture.clock.advance(by: -601)

        // Another output never recovers it.
        let elsewhere = try runner.run(file: file, out: fixture.folder.appending("elsewhere"), options: BatchOptions())
        #expect(elsewhere.skipped == 2 && elsewhere.recovered == 0)
        #expect(try revoked(fixture).isEmpty)

        // The same output does, once the obstacle is gone: the stranded certificate is superseded.
        try FileManager.default.removeItem(at: out.appendingPathComponent("d-2"))
        let again = try runner.run(file: file, out: out, options: BatchOptions())
        #expect(again.recovered == 1 && again.skipped == 1 && again.failed == 0)
        #expect(try revoked(fixture).map(\.serial) == [stranded.serial])
        #expect(try revoked(fixture).first?.revocationReason == "superseded")
        #expect(try OpenSSLCLI.verifyBundle(out.appendingPathComponent("d-2")).succeeded)
        let crl = try OpenSSLCLI.run(["crl", "-inform", "DER", "-noout", "-text", "-in",
                                      RevocationService(keyring: fixture.keyring).crlFiles(of: "issuing").der.path])
        #expect(crl.stdout.uppercased().contains(stranded.serial.hex.uppercased()))
        let active = try fixture.store.certificates(CertificateFilter(thing: "d-2", status: .active))
        #expect(active.count == 1 && active.first?.delivery == .written)
    }

    @Test func aBundleWrittenBeforeTheKillIsKeptNotReissued() throws {
        let fixture = try TemporaryStore(encrypted: false)
        let file = fixture.folder.appending("line.csv")
        try Data(csv(["d-1"]).utf8).write(to: file)
        let out = fixture.folder.appending("out")
        let runner = BatchRunner(keyring: fixture.keyring)
        _ = try runner.run(file: file, out: out, options: BatchOptions())
        // As if killed after the bundle reached the disk and before the store said so.
        let entry = try #require(try fixture.store.certificates(CertificateFilter(thing: "d-1")).first)
        try fixture.store.setDelivery(.recorded, thing: "d-1", serial: entry.serial)
        let again = try runner.run(file: file, out: out, options: BatchOptions())
        #expect(again.skipped == 1 && again.recovered == 0)
        #expect(try revoked(fixture).isEmpty)
        #expect(try fixture.store.certificates(CertificateFilter(thing: "d-1")).first?.delivery == .written)
    }

    @Test func aSecondBatchIntoTheSameOutputAtOnceIsRefused() throws {
        let fixture = try TemporaryStore(encrypted: false)
        let out = fixture.folder.appending("out")
        let target = DeliveryTarget.make(format: .dir, out: out)
        let held = try BatchLock(store: fixture.store, target: target, out: out)
        let file = fixture.folder.appending("line.csv")
        try Data(csv(["d-1"]).utf8).write(to: file)
        let error = #expect(throws: BatchBusy.self) {
            try BatchRunner(keyring: fixture.keyring).run(file: file, out: out, options: BatchOptions())
        }
        #expect(error?.kind == .conflict)
        #expect(try fixture.store.certificates(CertificateFilter()).isEmpty)
        held.release()
        #expect(try BatchRunner(keyring: fixture.keyring).run(file: file, out: out, options: BatchOptions()).issued == 1)
    }

    @Test func rowsMayUseOnlyTheTemplatesTheCommandLineAllows() throws {
        let fixture = try TemporaryStore(encrypted: false)
        let file = fixture.folder.appending("line.csv")
        try Data("thing,template\nd-1,\nweb-1,server\n".utf8).write(to: file)
        let report = try BatchRunner(keyring: fixture.keyring).run(file: file, out: fixture.bundles, options: BatchOptions())
        #expect(report.issued == 1 && report.failures.map(\.line) == [3])
        #expect(report.failures.first?.error.contains("'server' is not allowed") == true)
        #expect(try fixture.store.certificates(CertificateFilter(thing: "web-1")).isEmpty)
        var allowing = BatchOptions()
        allowing.allowedTemplates = ["server"]
        let allowed = try BatchRunner(keyring: fixture.keyring).run(file: file, out: fixture.bundles, options: allowing)
        #expect(allowed.issued == 1 && allowed.skipped == 1)
    }

    @Test func csrColumnsReadOnlySmallRegularFilesBesideTheBatchFile() throws {
        let fixture = try TemporaryStore(encrypted: false)
        let jobs = fixture.folder.appending("jobs")
        try FileManager.default.createDirectory(at: jobs.appendingPathComponent("requests"), withIntermediateDirectories: true)
        let key = fixture.folder.path("device.key")
        let good = jobs.appendingPathComponent("requests/good.csr").path
        #expect(try OpenSSLCLI.run(["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                                    "-keyout", key, "-out", good, "-subj", "/CN=x"]).succeeded)
        let outside = fixture.folder.path("outside.csr")
        try FileManager.default.copyItem(atPath: good, toPath: outside)
        try FileManager.default.createSymbolicLink(atPath: jobs.appendingPathComponent("link-out.csr").path, withDestinationPath: outside)
        try FileManager.default.createSymbolicLink(atPath: jobs.appendingPathComponent("zero.csr").path, withDestinationPath: "/dev/zero")
        try FileManager.default.createSymbolicLink(atPath: jobs.appendingPathComponent("link-in.csr").path, withDestinationPath: "requests/good.csr")
        #expect(mkfifo(jobs.appendingPathComponent("fifo.csr").path, 0o600) == 0)
        try Data(repeating: 0x41, count: CSRCheck.maximumSize + 1).write(to: jobs.appendingPathComponent("big.csr"))
        let file = jobs.appendingPathComponent("rows.csv")
        try Data("""
            thing,csr
            ok-1,requests/good.csr
            ok-2,link-in.csr
            abs,\(outside)
            up,../outside.csr
            link,link-out.csr
            zero,zero.csr
            fifo,fifo.csr
            big,big.csr
            dir,requests

            """.utf8).write(to: file)
        let report = try BatchRunner(keyring: fixture.keyring).run(file: file, out: fixture.bundles, options: BatchOptions())
        #expect(report.issued == 2)
        let errors = Dictionary(uniqueKeysWithValues: report.failures.map { ($0.thing, $0.error) })
        #expect(errors["abs"]?.contains("absolute path") == true)
        #expect(errors["up"]?.contains("outside the batch file's folder") == true)
        #expect(errors["link"]?.contains("outside the batch file's folder") == true)
        #expect(errors["zero"]?.contains("outside the batch file's folder") == true)
        #expect(errors["fifo"]?.contains("not a regular file") == true)
        #expect(errors["big"]?.contains("64 KiB") == true)
        #expect(errors["dir"]?.contains("not a regular file") == true)
        #expect(report.failed == 7)
    }
}
