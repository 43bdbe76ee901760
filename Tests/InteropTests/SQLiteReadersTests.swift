import Foundation
import GRDBSQLite
@testable import IoTCAKit
import Testing
import TestSupport

/// The SQLite store's own read connections (`readOne`): every read sees every commit before it,
/// whoever made it; a connection left inside a statement is never handed out again; a closed
/// store's readers refuse.
@Suite struct SQLiteReadersTests {
    func certificates(_ store: Store) throws -> Int64 {
        try store.readOne { db in try db.value(Int64.self, "SELECT count(*) FROM certificates") ?? -1 }
    }

    @Test func readsSeeEveryCommitOfThisAndAnotherConnection() throws {
        let fixture = try TemporaryStore()
        let before = try certificates(fixture.store)
        _ = try fixture.issue(IssueRequest(thing: "d1"))
        #expect(try certificates(fixture.store) == before + 1)
        // Another opening of the store (as another process): its commit is seen at once.
        let other = try Store.open(fixture.storeURL, clock: fixture.clock.clock)
        #expect(try certificates(other) == before + 1)
        let keyring = Keyring(store: other, passphrase: .fixed(Passphrase(TemporaryStore.passphrase)))
        keyring.keyProtection = .insecureFastForTests
        _ = try CertificateAuthority(keyring: keyring).issue(IssueRequest(thing: "d2"), into: fixture.folder.appending("d2"))
        #expect(try certificates(fixture.store) == before + 2)
        #expect(try fixture.store.clientStanding(serial: SerialNumber(bytes: [1]), der: [0x30]) == nil)
    }

    @Test func concurrentReadsDuringWritesNeverFailNorGoBack() async throws {
        let fixture = try TemporaryStore()
        let start = try certificates(fixture.store)
        let store = fixture.store
        // Four readers at once while the store records ten issuances: every read answers, and
        // what one reader sees never goes back (each read's snapshot is the newest).
        async let writes: Void = Task.detached {
            for index in 0..<10 { _ = try fixture.issue(IssueRequest(thing: "w\(index)")) }
        }.value
        let seen = try await withThrowingTaskGroup(of: [Int64].self) { group in
            for _ in 0..<4 {
                group.addTask {
                    try (0..<200).map { _ in try store.readOne { db in try db.value(Int64.self, "SELECT count(*) FROM certificates") ?? -1 } }
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        try await writes
        for counts in seen {
            #expect(counts.count == 200 && counts.allSatisfy { $0 >= start && $0 <= start + 10 })
            #expect(zip(counts, counts.dropFirst()).allSatisfy { $0 <= $1 })
        }
        #expect(try certificates(store) == start + 10)
    }

    @Test func aConnectionIsReusedOnlyWhenItsReadEnded() throws {
        let fixture = try TemporaryStore()
        let readers = SQLiteReaders(path: fixture.store.layout.database.path)
        let first = try readers.read { $0 }
        #expect(try readers.read { $0 } === first)
        // Left inside a statement: its snapshot would be the next read's. Dropped instead.
        let stepped = try readers.read { reader -> SQLiteReader in
            let statement = try reader.cachedStatement("SELECT serial FROM certificates")
            #expect(sqlite3_step(statement) == SQLITE_ROW)
            return reader
        }
        #expect(stepped === first)
        #expect(try readers.read { $0 } !== first)
        // A failing statement ends the read too, and the connection stays usable.
        #expect(throws: (any Error).self) { try readers.read { try SQLiteConnection($0).rows("SELECT nothing FROM nowhere", []) } }
        #expect(try readers.read { try SQLiteConnection($0).rows("SELECT count(*) FROM authorities", []) }.count == 1)
    }

    /// The readers close before GRDB's writer, which closes last and so checkpoints and removes
    /// the write-ahead log: the database file alone holds the store once no process has it open.
    @Test func closingTheStoreLeavesNoWriteAheadLog() throws {
        let fixture = try TemporaryStore()
        try fixture.store.close()
        let wal = fixture.store.layout.database.path + "-wal"
        for close in [true, false] {
            do {
                let store = try Store.open(fixture.storeURL, clock: fixture.clock.clock)
                let keyring = Keyring(store: store, passphrase: .fixed(Passphrase(TemporaryStore.passphrase)))
                keyring.keyProtection = .insecureFastForTests
                let thing = close ? "closed" : "released"
                _ = try CertificateAuthority(keyring: keyring).issue(IssueRequest(thing: thing), into: fixture.folder.appending(thing))
                #expect(try certificates(store) > 0)
                #expect(FileManager.default.fileExists(atPath: wal))
                if close { try store.close() }
            }
            #expect(!FileManager.default.fileExists(atPath: wal), "\(close ? "closed" : "released")")
        }
    }

    /// Texts carrying a value (a listing's LIMIT) do not grow a connection's statements without
    /// end; a statement stepping while others are prepared is never finalized under it.
    @Test func theStatementCacheIsBoundedAndSparesAStatementInUse() throws {
        let fixture = try TemporaryStore()
        _ = try fixture.issue(IssueRequest(thing: "d1"))
        let readers = SQLiteReaders(path: fixture.store.layout.database.path)
        try readers.read { reader in
            let outer = try reader.cachedStatement("SELECT name FROM authorities ORDER BY name")
            defer { sqlite3_reset(outer) }
            #expect(sqlite3_step(outer) == SQLITE_ROW)
            for limit in 1...600 {
                let rows = try SQLiteConnection(reader).rows("SELECT serial FROM certificates LIMIT \(limit)", [])
                #expect(rows.count >= 1)
            }
            #expect(reader.cachedStatements <= 257)
            // The outer statement still steps through its rows.
            var more = 1
            while sqlite3_step(outer) == SQLITE_ROW { more += 1 }
            #expect(more == 4)
        }
    }

    @Test func aClosedStoreRefusesReads() throws {
        let fixture = try TemporaryStore()
        let readers = SQLiteReaders(path: fixture.store.layout.database.path)
        _ = try readers.read { $0 }
        readers.close()
        #expect(throws: (any Error).self) { try readers.read { $0 } }
        #expect(throws: (any Error).self) { try SQLiteReaders(path: fixture.folder.path("missing.db")).read { $0 } }
    }
}
