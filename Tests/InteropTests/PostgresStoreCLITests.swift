import Foundation
import GRDB
@testable import IoTCAKit
import Testing
import TestSupport

/// The command line on a PostgreSQL store, against a real server: init, every-day commands,
/// migration from a folder store, and what a user sees when the database says no or is gone:
/// a clear message, exit code 3, and nothing half-written.
@Suite struct PostgresStoreCLITests {
    let server: PostgresServer
    let folder = TemporaryFolder()

    init() throws { server = try PostgresServer() }

    var environment: [String: String] {
        server.environment.merging(["IOTCA_PASSPHRASE": TemporaryStore.passphrase, "IOTCA_NODE_DIR": folder.path("node")]) { $1 }
    }

    @discardableResult
    func iotca(_ arguments: [String], environment extra: [String: String] = [:]) throws -> ProcessResult {
        try ProcessRunner.run(ProcessRunner.iotcaExecutable, arguments, environment: environment.merging(extra) { $1 }, directory: folder.url)
    }

    @Test func initOnAnEmptyDatabaseThenTheEveryDayCommandsWork() throws {
        let url = try server.createDatabase()
        let made = try iotca(["init", "--store", url, "--org", "Shared Fleet"])
        #expect(made.succeeded, "\(made.stderr)")
        // The node that made the store pins its service root beside its public files.
        let pinned = try #require(try ServiceRootPin(folder: folder.appending("node")).read())
        let shared = try Store.open(try server.location(url, node: folder.appending("node")))
        #expect(pinned == (try shared.authority(named: "service-root").certificateDER))
        try shared.close()
        let again = try iotca(["init", "--store", url, "--org", "Shared Fleet"])
        #expect(again.status == 3 && again.stderr.contains("already holds a store"), "\(again.stderr)")
        #expect(try iotca(["issue", "dev-1", "--store", url, "--out", "bundles"]).succeeded)
        #expect(try OpenSSLCLI.verifyBundle(folder.appending("bundles/dev-1")).succeeded)
        #expect(try iotca(["issue", "dev-1", "--store", url, "--out", "bundles"]).status == 7)
        #expect(try iotca(["revoke", "--thing", "dev-1", "--store", url]).succeeded)
        let crl = folder.appending("node/public/issuing.crl.pem")
        let verify = try OpenSSLCLI.run(["verify", "-x509_strict", "-crl_check", "-CAfile", folder.path("bundles/dev-1/root.pem"),
                                         "-untrusted", folder.path("bundles/dev-1/chain.pem"), "-CRLfile", crl.path,
                                         folder.path("bundles/dev-1/cert.pem")])
        #expect((verify.stdout + verify.stderr).contains("certificate revoked"))
        let doctor = try iotca(["doctor", "--store", url])
        #expect(doctor.succeeded && doctor.stdout.contains("no problems found"), "\(doctor.stdout)\(doctor.stderr)")
        // The password may come from a file instead (and a wrong one is refused, exit 3).
        try Data("\(PostgresServer.password)\n".utf8).write(to: folder.appending("pw"))
        #expect(try iotca(["list", "--store", url, "--db-password-file", "pw"], environment: ["PGPASSWORD": "wrong"]).succeeded)
        let refused = try iotca(["list", "--store", url], environment: ["PGPASSWORD": "wrong"])
        #expect(refused.status == 3 && refused.stderr.contains("login refused"), "\(refused.stderr)")
    }

    @Test func refusalsLeaveTheDatabaseAsItWas() throws {
        let url = try server.createDatabase()
        let database = String(url.split(separator: "/").last?.split(separator: "?").first ?? "")
        // Unencrypted keys never go into a shared database: refused before anything is made.
        let plain = try iotca(["init", "--store", url, "--insecure-no-passphrase"])
        #expect(plain.status == 3 && plain.stderr.contains("encrypted CA keys only"), "\(plain.stderr)")
        #expect(try server.psql(database, "SELECT to_regclass('authorities') IS NULL").contains("t"))
        // An empty database is not a store; nothing is created by looking at it.
        let empty = try iotca(["list", "--store", url])
        #expect(empty.status == 3 && empty.stderr.contains("no store at"), "\(empty.stderr)")
        #expect(try server.psql(database, "SELECT to_regclass('schema_migrations') IS NULL").contains("t"))
        let badMode = try iotca(["list", "--store", url.replacingOccurrences(of: "sslmode=disable", with: "sslmode=sometimes")])
        #expect(badMode.status == 3 && badMode.stderr.contains("sslmode"), "\(badMode.stderr)")
        let closed = try Broker.freePort()
        let nobody = try iotca(["list", "--store", "postgres://iotca@127.0.0.1:\(closed)/x?sslmode=disable&connect_timeout=2"])
        #expect(nobody.status == 3 && nobody.stderr.contains("unavailable"), "\(nobody.stderr)")
    }

    /// The database goes away between commands and comes back: the command in between fails
    /// with exit 3 and writes nothing (no bundle, no row); afterwards all is as before.
    @Test func aDatabaseThatIsDownIsExitThreeAndNothingHalfWritten() throws {
        let url = try server.createDatabase()
        #expect(try iotca(["init", "--store", url]).succeeded)
        #expect(try iotca(["issue", "before", "--store", url, "--out", "bundles"]).succeeded)
        server.stop()
        let down = try iotca(["issue", "during", "--store", url, "--out", "bundles"])
        #expect(down.status == 3 && down.stderr.contains("unavailable") && down.stderr.contains("nothing was recorded"), "\(down.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder.path("bundles/during")))
        #expect(try iotca(["revoke", "--thing", "before", "--store", url]).status == 3)
        try server.start()
        let list = try iotca(["list", "--store", url, "--json"])
        #expect(list.succeeded && list.stdout.contains("before") && !list.stdout.contains("during") && !list.stdout.contains("\"revoked\""),
                "\(list.stdout)")
        #expect(try iotca(["issue", "during", "--store", url, "--out", "bundles"]).succeeded)
        #expect(try iotca(["doctor", "--store", url]).succeeded)
    }

    @Test func migrateCopiesAFolderStoreAndProvesTheCopy() throws {
        let fixture = try TemporaryStore()
        for thing in ["a", "b", "c"] { try fixture.issue(IssueRequest(thing: thing)) }
        _ = try CertificateAuthority(keyring: fixture.keyring).revoke(.thing("b"), reason: .superseded)
        let url = try server.createDatabase()
        let migrated = try iotca(["store", "migrate", "--from", fixture.storeURL.path, "--to", url])
        #expect(migrated.succeeded && migrated.stdout.contains("Verified"), "\(migrated.stdout)\(migrated.stderr)")
        let lines = migrated.stdout.split(separator: "\n").filter { $0.contains("source:") || $0.contains("copy:") }
            .map { $0.replacingOccurrences(of: "source:", with: "").replacingOccurrences(of: "copy:", with: "").trimmingCharacters(in: .whitespaces) }
        #expect(lines.count == 2 && lines[0] == lines[1], "\(lines)")
        // The copy works: same certificates, the old CA keys open with the same passphrase.
        let list = try iotca(["list", "--store", url, "--status", "active", "--json"])
        #expect(list.stdout.contains("\"a\"") && list.stdout.contains("\"c\"") && !list.stdout.contains("\"b\""))
        #expect(try iotca(["issue", "d", "--store", url, "--out", "bundles"]).succeeded)
        #expect(try OpenSSLCLI.verifyBundle(folder.appending("bundles/d")).succeeded)
        // Killed with every row in its transaction, before the commit: the database keeps
        // nothing, and the migration run again succeeds.
        let other = try server.createDatabase()
        let otherName = String(other.split(separator: "/").last?.split(separator: "?").first ?? "")
        let killed = try iotca(["store", "migrate", "--from", fixture.storeURL.path, "--to", other], environment: ["IOTCA_TEST_KILL_AT": "copied"])
        #expect(killed.status == SIGKILL, "\(killed.status) \(killed.stderr)")
        #expect(try server.psql(otherName, "SELECT (SELECT count(*) FROM authorities) + (SELECT count(*) FROM certificates) + (SELECT count(*) FROM files)")
            .trimmingCharacters(in: .whitespacesAndNewlines) == "0")
        #expect(try iotca(["store", "migrate", "--from", fixture.storeURL.path, "--to", other]).stdout.contains("Verified"))
        // Twice: the target holds a store now.
        #expect(try iotca(["store", "migrate", "--from", fixture.storeURL.path, "--to", url]).status == 3)
        // A store with unencrypted keys is refused, and the database left empty.
        let plain = try TemporaryStore(encrypted: false)
        let fresh = try server.createDatabase()
        let refused = try iotca(["store", "migrate", "--from", plain.storeURL.path, "--to", fresh])
        #expect(refused.status == 3 && refused.stderr.contains("not encrypted"), "\(refused.stderr)")
        let name = String(fresh.split(separator: "/").last?.split(separator: "?").first ?? "")
        #expect(try server.psql(name, "SELECT count(*) FROM authorities").trimmingCharacters(in: .whitespacesAndNewlines) == "0")
    }

    /// 100,000 certificates (rows cloned from a real one, each with its own serial), copied in
    /// one transaction and proven equal row for row by the digest of both stores.
    @Test func migrationRoundTripsAHundredThousandCertificates() throws {
        let fixture = try TemporaryStore()
        let template = try fixture.issue(IssueRequest(thing: "model")).entry
        let pool = try DatabasePool(path: fixture.store.layout.database.path)
        try pool.write { db in
            let statement = try db.makeStatement(sql: """
                INSERT INTO certificates (serial, authority_id, thing, template, subject, sans, key_algorithm, not_before, not_after,
                    status, der, created_at, delivery)
                SELECT printf('%040x', ?), authority_id, 'unit-' || ?, template, subject, sans, key_algorithm, not_before, not_after,
                    CASE WHEN ? % 10 = 0 THEN 'revoked' ELSE 'active' END, der, created_at, 'written'
                FROM certificates WHERE serial = ?
                """)
            for index in 0..<99_999 { try statement.execute(arguments: [index + 1, index, index, template.serial.hex]) }
        }
        try pool.close()
        let url = try server.createDatabase()
        let report = try StoreMigration.migrate(from: fixture.storeURL, to: try server.location(url, node: folder.appending("node")),
                                                examine: false, clock: fixture.clock.clock)
        #expect(report.rows["certificates"] == 100_000 + 4)  // the things' and the four CAs'
        #expect(report.rows["events"] == (try fixture.store.events().count))
        #expect(report.verified && report.sourceDigest == report.copyDigest)
        let copy = try Store.open(try server.location(url, node: folder.appending("node")))
        #expect(try copy.certificates(CertificateFilter(status: .revoked)).count == 10_000)
        #expect(try copy.events().last?.hash == fixture.store.events().last?.hash)
        #expect(try ServiceRootPin(folder: folder.appending("node")).read() == (try ServiceRootPin(folder: fixture.storeURL).read()))
    }

    /// TLS to the database as the URL asks: a server that takes TLS logins only refuses
    /// `sslmode=disable`, serves `require`, `prefer` and `verify-full` with its root, and a
    /// `verify-ca` against another root is refused before any login.
    @Test func theConnectionUsesTLSAsTheURLAsks() throws {
        let secure = try PostgresServer(tls: true)
        let base = try secure.createDatabase().replacingOccurrences(of: "?sslmode=disable", with: "")
        let plain = try iotca(["init", "--store", base + "?sslmode=disable"], environment: secure.environment)
        #expect(plain.status == 3 && plain.stderr.contains("login refused"), "\(plain.stderr)")
        let made = try iotca(["init", "--store", base + "?sslmode=require"], environment: secure.environment)
        #expect(made.succeeded, "\(made.stderr)")
        #expect(try iotca(["list", "--store", base], environment: secure.environment).succeeded)
        let verified = try iotca(["list", "--store", base + "?sslmode=verify-full&sslrootcert=" + secure.tlsCertificate.path],
                                 environment: secure.environment)
        #expect(verified.succeeded, "\(verified.stderr)")
        let other = folder.appending("other.crt")
        #expect(try OpenSSLCLI.run(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
                                    "-subj", "/CN=elsewhere", "-keyout", folder.path("other.key"), "-out", other.path]).succeeded)
        let wrong = try iotca(["list", "--store", base + "?sslmode=verify-ca&sslrootcert=" + other.path], environment: secure.environment)
        #expect(wrong.status == 3 && wrong.stderr.contains("unavailable"), "\(wrong.stderr)")
    }

    /// Two `init`s on one empty database at once: one store, the other refused (exit 3), and
    /// the store whole.
    @Test func twoInitsAtOnceMakeOneStore() throws {
        let url = try server.createDatabase()
        let statuses = try ProcessRunner.race(ProcessRunner.iotcaExecutable, ["init", "--store", url, "--org", "Raced"],
                                              environment: environment)
        #expect(statuses == [0, 3], "\(statuses)")
        let doctor = try iotca(["doctor", "--store", url])
        #expect(doctor.succeeded, "\(doctor.stdout)\(doctor.stderr)")
        #expect(try iotca(["ca", "list", "--store", url, "--json"]).stdout.components(separatedBy: "\"name\"").count - 1 == 4)
    }
}
