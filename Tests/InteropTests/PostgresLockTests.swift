import Foundation
@testable import IoTCAKit
import Synchronization
import Testing
import TestSupport

/// Who waits for whom on a shared PostgreSQL store, seen in `pg_locks`: an issuance waits only
/// for another issuance to the same thing, never for issuances to other things; every other
/// write (a revocation here) still waits for all of them, and they for it.
@Suite(.serialized) struct PostgresLockTests {
    /// A transaction on a connection of `store`'s own that holds what an issuance to `thing`
    /// holds (the write lock shared, the thing's lock) until `release` is signalled.
    final class Holder: @unchecked Sendable {
        let holding = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0), done = DispatchSemaphore(value: 0)
        init(_ store: Store, thing: String?, exclusive: Bool = false, fileLock: String? = nil) {
            Thread.detachNewThread { [self] in
                _ = try? store.database.writeUnqueued { db in
                    if let fileLock {
                        // As a key file's or a batch's lock is held: a lock of the file space.
                        try db.execute("SELECT pg_advisory_xact_lock(CAST(? AS integer), hashtext(?))", Int64(PostgresLocks.fileSpace), fileLock)
                        holding.signal()
                        release.wait()
                        return
                    }
                    if exclusive {
                        try db.execute("SELECT pg_advisory_xact_lock(?)", PostgresDatabase.writeLock)
                    } else {
                        try db.execute("SELECT pg_advisory_xact_lock_shared(?)", PostgresDatabase.writeLock)
                    }
                    if let thing {
                        try db.execute("SELECT pg_advisory_xact_lock(CAST(? AS integer), hashtext(?))",
                                       Int64(PostgresIssuance.thingLockSpace), thing)
                    }
                    holding.signal()
                    release.wait()
                }
                done.signal()
            }
            holding.wait()
        }
    }

    /// Advisory locks some session is waiting for now.
    func waiting(_ store: Store) throws -> Int {
        try store.readOne { db in try db.value(Int64.self, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted") ?? 0 }
            .map { Int($0) } ?? 0
    }

    /// Polls `pg_locks` (a bounded number of queries, no sleep) until `count` sessions wait.
    func awaitWaiters(_ store: Store, _ count: Int) throws -> Bool {
        for _ in 0..<20_000 where try waiting(store) == count { return true }
        return false
    }

    /// `body` run on a thread of its own: `finished` is signalled when it returns.
    final class Background: Sendable {
        let finished = DispatchSemaphore(value: 0)
        let error = Mutex<String?>(nil)
        init(_ body: @escaping @Sendable () throws -> Void) {
            Thread.detachNewThread { [self] in
                do { try body() } catch let failure { error.withLock { $0 = "\(failure)" } }
                finished.signal()
            }
        }
    }

    @Test func anIssuanceWaitsOnlyForItsOwnThing() throws {
        let fixture = try TemporaryStore(backend: .postgres)
        let other = try Store.open(fixture.location, connections: 2, clock: fixture.clock.clock)
        let holder = Holder(other, thing: "meter-held")
        // Another thing's issuance goes through while the first is held.
        let free = Background { _ = try fixture.issue(IssueRequest(thing: "meter-free")) }
        #expect(free.finished.wait(timeout: .now() + 60) == .success)
        #expect(free.error.withLock { $0 } == nil)
        // The held thing's issuance waits, on that thing's lock alone.
        let held = Background { _ = try fixture.issue(IssueRequest(thing: "meter-held")) }
        #expect(try awaitWaiters(fixture.store, 1))
        holder.release.signal()
        holder.done.wait()
        #expect(held.finished.wait(timeout: .now() + 60) == .success)
        #expect(held.error.withLock { $0 } == nil)
        #expect(try fixture.store.certificates(CertificateFilter(status: .active)).compactMap(\.thing).sorted() == ["meter-free", "meter-held"])
        #expect(AuditEvent.firstBrokenLink(try fixture.store.events()) == nil)
    }

    /// A thing named like a file lock (`keys`, held while a CA is made or keys re-encrypted)
    /// takes a lock of another space: its issuance does not wait for the file lock's holder.
    @Test func thingLocksAreNotFileLocks() throws {
        let fixture = try TemporaryStore(backend: .postgres)
        let other = try Store.open(fixture.location, connections: 2, clock: fixture.clock.clock)
        let files = Holder(other, thing: nil, fileLock: "keys")
        let issuance = Background { _ = try fixture.issue(IssueRequest(thing: "keys")) }
        #expect(issuance.finished.wait(timeout: .now() + 60) == .success)
        #expect(issuance.error.withLock { $0 } == nil)
        files.release.signal()
        files.done.wait()
    }

    @Test func otherWritesStillWaitForIssuancesAndTheyForThem() throws {
        let fixture = try TemporaryStore(backend: .postgres)
        _ = try fixture.issue(IssueRequest(thing: "meter-1"))
        let other = try Store.open(fixture.location, connections: 2, clock: fixture.clock.clock)
        // An issuance in flight holds the write lock shared: a revocation waits for it.
        let issuing = Holder(other, thing: "meter-2")
        let revocation = Background { _ = try CertificateAuthority(keyring: fixture.keyring).revoke(.thing("meter-1")) }
        #expect(try awaitWaiters(fixture.store, 1))
        issuing.release.signal()
        issuing.done.wait()
        #expect(revocation.finished.wait(timeout: .now() + 60) == .success)
        #expect(revocation.error.withLock { $0 } == nil)
        // A revocation (any exclusive write) in flight: an issuance waits for it.
        let revoking = Holder(other, thing: nil, exclusive: true)
        let issuance = Background { _ = try fixture.issue(IssueRequest(thing: "meter-3")) }
        #expect(try awaitWaiters(fixture.store, 1))
        revoking.release.signal()
        revoking.done.wait()
        #expect(issuance.finished.wait(timeout: .now() + 60) == .success)
        #expect(issuance.error.withLock { $0 } == nil)
        #expect(try fixture.store.certificates(CertificateFilter(status: .revoked)).compactMap(\.thing) == ["meter-1"])
        #expect(AuditEvent.firstBrokenLink(try fixture.store.events()) == nil)
    }
}

/// The issuance function's guard for callers limited by grants, called as the store calls it:
/// a thing whose history is not the one the caller was checked against is not recorded.
@Suite struct PostgresIssuanceGuardTests {
    @Test func aStaleHistoryIsNotRecorded() throws {
        let fixture = try TemporaryStore(backend: .postgres)
        let issued = try fixture.issue(IssueRequest(thing: "meter-1")).entry
        func count() throws -> Int64 { try fixture.store.readOne { db in try db.value(Int64.self, "SELECT count(*) FROM certificates") ?? -1 } }
        let before = try count()
        let item: [String: Any] = [
            "thing": "meter-1", "attributes": "{}", "renew": true, "serial": "7f00", "authority_id": 2, "template": "device",
            "subject": "CN=meter-1", "sans": "[]", "key_algorithm": "ec-p256", "not_before": "2026-01-01 00:00:00.000",
            "not_after": "2027-01-01 00:00:00.000", "der": Data(issued.der).base64EncodedString(), "created_at": "2026-01-01 00:00:00.000",
            "delivery": "written", "at": "2026-01-01T00:00:00.000Z", "details": "{}",
            // Checked against no history: the thing has one (its device certificate).
            "history": [String](),
        ]
        let payload = String(decoding: try JSONSerialization.data(withJSONObject: [item]), as: UTF8.self)
        let answer = try fixture.store.database.writeOne { db in
            try db.value(String.self, "SELECT iotca_record_issuances_v9(CAST(? AS jsonb), ?, ?, CAST(? AS integer))",
                         payload, PostgresDatabase.writeLock, PostgresIssuance.chainLock, Int64(PostgresIssuance.thingLockSpace))
        }
        #expect(answer?.contains(#""stale": true"#) == true, "\(answer ?? "nil")")
        #expect(try count() == before)
        #expect(AuditEvent.firstBrokenLink(try fixture.store.events()) == nil)
    }
}
