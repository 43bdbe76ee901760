import Foundation
import IoTCAKit
import Testing
import TestSupport

/// The front door both front ends call: one operation per verb, typed results, errors by kind.
@Suite struct CertificateAuthorityTests {
    @Test func oneOperationPerVerbFromIssueToDoctor() throws {
        let folder = TemporaryFolder()
        let clock = ManualClock()
        var options = StoreInitializer.Options(organization: "Door Fleet", passphrase: nil)
        options.keyProtection = .insecureFastForTests
        _ = try CertificateAuthority.initialize(at: folder.appending("store"), options: options, clock: clock.clock)
        let ca = try CertificateAuthority(store: folder.appending("store"), passphrase: .fixed(nil), clock: clock.clock)

        let issued = try ca.issue(IssueRequest(thing: "d-1"), into: folder.appending("bundles"))
        #expect(issued.entry.delivery == .written)
        let conflict = #expect(throws: IssuanceConflict.self) { try ca.issue(IssueRequest(thing: "d-1"), into: folder.appending("bundles")) }
        #expect(conflict?.kind == .conflict)
        #expect(try ca.certificate(matching: "d-1").serial == issued.entry.serial)
        #expect(try ca.certificates(CertificateFilter(status: .active)).count == 1)

        let outcome = try ca.revoke(.thing("d-1"), reason: .keyCompromise)
        #expect(outcome.revoked.map(\.serial) == [issued.entry.serial] && outcome.published.map(\.authority) == ["issuing"])
        #expect(try ca.crlStatus(of: "issuing").first?.revoked.map(\.serial) == [issued.entry.serial.hex])
        clock.advance(by: 5 * 86_400)  // past half the CRLs' 7 days: every CA is due
        #expect(try ca.publishCRLs(ifDue: true).map(\.authority).sorted() == ["issuing", "root", "service", "service-root"])

        let created = try ca.createCA("line-2", parent: "root")
        #expect(try ca.setStatus(.disabled, of: created.name).status == .disabled)
        let unavailable = #expect(throws: AuthorityError.self) {
            try ca.issue(IssueRequest(thing: "d-2", authority: "line-2"), into: folder.appending("bundles"))
        }
        #expect(unavailable?.kind == .unavailable)
        #expect(try ca.pins().count == 4)  // root, issuing, line-2, the standby root key
        let nowhere = try #require(FileHandle(forWritingAtPath: "/dev/null"))
        #expect(try ca.writeAudit(.json, to: StreamWriter(descriptor: nowhere.fileDescriptor)).chainIntact)
        #expect(try ca.doctor(bundles: folder.appending("bundles")).healthy)
        let missing = #expect(throws: AuthorityError.self) { try ca.authority(named: "nope") }
        #expect(missing?.kind == .notFound)
    }
}
