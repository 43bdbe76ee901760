import Foundation
@testable import IoTCAKit
import Testing
import TestSupport

extension SharedStoreTests {
    /// Two openings of one store (two processes, or two nodes) write in turns. Each remembers the
    /// chain's end it last appended, which the other's write has since moved: every event must
    /// still follow the one truly before it, on both engines.
    @Test(arguments: backends)
    func twoOpeningsWritingInTurnsKeepOneAuditChain(_ backend: TemporaryStore.Backend) throws {
        let fixture = try TemporaryStore(backend: backend)
        let here = CertificateAuthority(keyring: fixture.keyring), there = CertificateAuthority(keyring: try node(fixture))
        for index in 0..<3 {
            _ = try here.issue(IssueRequest(thing: "here-\(index)"), into: fixture.folder.appending("here-\(index)"))
            _ = try there.issue(IssueRequest(thing: "there-\(index)"), into: fixture.folder.appending("there-\(index)"))
            _ = try here.revoke(.thing("there-\(index)"), reason: .superseded)
            _ = try there.revoke(.thing("here-\(index)"), reason: .superseded)
        }
        let events = try fixture.store.events()
        #expect(events.filter { $0.action == "certificate.issue" }.count == 6)
        #expect(events.filter { $0.action.hasPrefix("certificate.revoke") }.count == 6, "\(events.map(\.action))")
        #expect(AuditEvent.verifyChain(events))
        let report = try here.doctor()
        #expect(findings(report).isEmpty, "\(findings(report))")
    }
}
