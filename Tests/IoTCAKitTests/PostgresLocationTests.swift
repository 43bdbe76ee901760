import Foundation
@testable import IoTCAKit
import Testing

/// What a PostgreSQL store URL means for the connection's security, without a server: a
/// database on another machine is authenticated unless the URL says otherwise, and a password
/// never reaches a message.
@Suite struct PostgresLocationTests {
    static let environment = ["HOME": "/nonexistent"]

    @Test func aRemoteDatabaseIsVerifiedByDefault() throws {
        let refused = #expect(throws: StoreError.self) { try PostgresLocation(url: "postgres://ca@db.example.com/iotca", environment: Self.environment) }
        #expect(refused?.description.contains("sslrootcert") == true && refused?.description.contains("verify-full") == true)
        let verified = try PostgresLocation(url: "postgres://ca@db.example.com/iotca?sslrootcert=/etc/ssl/db-ca.pem", environment: Self.environment)
        #expect(verified.sslMode == .verifyFull && verified.warning == nil)
        // On this machine libpq's own default stands.
        #expect(throws: StoreError.self) { try PostgresLocation(url: "postgres://ca@127.example.com/iotca", environment: Self.environment) }
        for host in ["127.0.0.1", "localhost", "[::1]", "127.8.9.10"] {
            let local = try PostgresLocation(url: "postgres://ca@\(host)/iotca", environment: Self.environment)
            #expect(local.sslMode == .prefer && local.warning == nil)
        }
    }

    @Test func verifyingWithoutARootIsRefusedAndNotVerifyingIsSaid() throws {
        for mode in ["verify-ca", "verify-full"] {
            #expect(throws: StoreError.self) { try PostgresLocation(url: "postgres://ca@127.0.0.1/iotca?sslmode=\(mode)", environment: Self.environment) }
        }
        for mode in ["require", "prefer", "allow"] {
            let written = try PostgresLocation(url: "postgres://ca@db.example.com/iotca?sslmode=\(mode)", environment: Self.environment)
            #expect(written.sslMode.rawValue == mode && written.warning?.contains("not authenticated") == true)
        }
        #expect(try PostgresLocation(url: "postgres://ca@db.example.com/iotca?sslmode=disable", environment: Self.environment).sslMode == .disable)
    }

    @Test func aPasswordNeverReachesAMessage() throws {
        for url in ["postgres://ca:hunter2-secret@/iotca", "postgres://ca:hunter2-secret@db.example.com/iotca?sslmode=bogus",
                    "postgres://ca:hunter2-secret@db.example.com/iotca?colour=red", "postgres://ca:hunter2-secret@db.example.com:99999/x",
                    "postgres://ca:hunter2-secret@db.example.com/iotca"] {
            do {
                _ = try PostgresLocation(url: url, environment: Self.environment)
                Issue.record("\(url) was accepted")
            } catch {
                #expect(!error.description.contains("hunter2"), "\(error)")
            }
        }
        #expect(PostgresLocation.redacted("postgres://u:p@ss:w@rd@h/db") == "postgres://u:***@h/db")
    }
}
