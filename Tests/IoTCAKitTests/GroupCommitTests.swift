import Foundation
@testable import IoTCAKit
import Synchronization
import Testing
import TestSupport

/// Issuances recorded at the same moment share a transaction; each caller must still get its
/// own outcome, a conflict must refuse only its row, and a failed transaction nobody's.
@Suite struct GroupCommitTests {
    @Test func manyThreadsAtOnceEachGetTheirOwnOutcome() throws {
        let commits = GroupCommit()
        let fixture = try TemporaryStore(encrypted: false)
        let entry = try fixture.issue(IssueRequest(thing: "template-entry")).entry
        let groups = Mutex<[Int]>([])
        let answers = Mutex<[Int: Int]>([:])
        DispatchQueue.concurrentPerform(iterations: 400) { index in
            var mine = entry
            mine.thing = "thing-\(index)"
            let issuance = GroupCommit.Issuance(entry: mine, attributes: [:], renew: false, reach: nil, client: nil)
            // The "transaction" answers each issuance with its own number (odd ones refused).
            let outcome = Result {
                try commits.record(issuance) { group in
                    groups.withLock { $0.append(group.count) }
                    return group.map { member in
                        let number = Int(member.entry.thing?.split(separator: "-").last ?? "") ?? -1
                        return number % 2 == 0 ? .success([SerialNumber(bytes: [UInt8(number % 200 + 1)])])
                            : .failure(IssuanceConflict(thing: member.entry.thing ?? "", activeSerials: []))
                    }
                }
            }
            answers.withLock { $0[index] = (try? outcome.get())?.first.map { Int($0.bytes[0]) - 1 } ?? -1 }
        }
        let answered = answers.withLock { $0 }
        #expect(answered.count == 400)
        for (index, answer) in answered { #expect(answer == (index % 2 == 0 ? index % 200 : -1), "thread \(index)") }
        #expect(groups.withLock { $0.reduce(0, +) } == 400)  // every issuance written exactly once
    }

    @Test func aFailedTransactionFailsItsWholeGroupAndTheNextGroupStillRuns() throws {
        let commits = GroupCommit()
        let fixture = try TemporaryStore(encrypted: false)
        let entry = try fixture.issue(IssueRequest(thing: "x")).entry
        let issuance = GroupCommit.Issuance(entry: entry, attributes: [:], renew: false, reach: nil, client: nil)
        #expect(throws: StoreError.busy(path: "p")) {
            try commits.record(issuance) { group in group.map { _ in .failure(StoreError.busy(path: "p")) } }
        }
        #expect(try commits.record(issuance) { group in group.map { _ in .success([]) } } == [])
    }

    /// The real store, many threads, one provisioner each: every certificate recorded once, one
    /// winner per contested thing, the audit chain whole, every event naming its own client.
    @Test func concurrentIssuancesOnOneStoreKeepEveryInvariant() throws {
        let fixture = try TemporaryStore(encrypted: false)
        let refused = Mutex(0)
        DispatchQueue.concurrentPerform(iterations: 8) { lane in
            let provisioner = Provisioner(keyring: fixture.keyring)
            for round in 0..<25 {
                for thing in ["lane-\(lane)-\(round)", "contested-\(round)"] {
                    do {
                        _ = try AuditEvent.$client.withValue("station:lane-\(lane):0") {
                            try provisioner.issue(IssueRequest(thing: thing), bundleParent: fixture.folder.appending("lane-\(lane)"))
                        }
                    } catch is IssuanceConflict {
                        refused.withLock { $0 += 1 }
                    } catch {
                        Issue.record("lane \(lane), \(thing): \(error)")
                    }
                }
            }
        }
        let certificates = try fixture.store.certificates(CertificateFilter()).filter { $0.thing != nil }
        #expect(certificates.count == 8 * 25 + 25)
        #expect(Set(certificates.map(\.thing)).count == certificates.count)  // one per thing: one winner per contest
        #expect(refused.withLock { $0 } == 7 * 25)
        let issuedEvents = try fixture.store.events().filter { $0.action == "certificate.issue" }
        #expect(issuedEvents.count == certificates.count)
        for event in issuedEvents where event.subject.hasPrefix("lane-") {
            let lane = event.subject.split(separator: "-")[1]
            #expect(event.details.contains("\"client\":\"station:lane-\(lane):0\""), "\(event.subject): \(event.details)")
        }
        let report = try Doctor(store: fixture.store).examine()
        #expect(report.findings.isEmpty, "\(report.findings)")
    }
}
