import Foundation
import Synchronization
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

    /// The same two openings writing at once, each on its own thread: the appends serialize
    /// (SQLite's write lock, taken when the transaction begins; PostgreSQL's row and advisory
    /// locks) and the chain still has every event once, in order.
    @Test(arguments: backends)
    func twoOpeningsWritingAtOnceKeepOneAuditChain(_ backend: TemporaryStore.Backend) throws {
        let fixture = try TemporaryStore(backend: backend)
        let keyrings = [fixture.keyring, try node(fixture)]
        let folder = fixture.folder.appending("at-once")
        let failures = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 2) { side in
            let authority = CertificateAuthority(keyring: keyrings[side])
            for index in 0..<8 {
                do {
                    let thing = "side-\(side)-\(index)"
                    _ = try authority.issue(IssueRequest(thing: thing), into: folder.appendingPathComponent(thing))
                    _ = try authority.revoke(.thing(thing), reason: .superseded)
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            }
        }
        let failed = failures.withLock { $0 }
        #expect(failed.isEmpty, "\(failed)")
        let events = try fixture.store.events()
        #expect(events.filter { $0.action == "certificate.issue" }.count == 16)
        #expect(events.filter { $0.action == "certificate.revoke" }.count == 16)
        #expect(AuditEvent.verifyChain(events))
        let report = try CertificateAuthority(keyring: fixture.keyring).doctor()
        #expect(findings(report).isEmpty, "\(findings(report))")
    }
}
