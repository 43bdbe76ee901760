import Foundation
import GRDB
import IoTCAKit

/// The peer of `iotca-bench crl`, in the same run: `openssl ca -gencrl` over the same revoked
/// certificates (an index.txt written from the seeded store: serials, times, reasons), signing
/// with the same issuing key and certificate. Timed and measured (peak RSS) as its own process.
enum OpenSSLGenCRL {
    /// OpenSSL's index.txt reason names by RFC 5280 code (9 and 10 it does not know).
    static let reasons: [UInt8: String] = [1: "keyCompromise", 2: "CACompromise", 3: "affiliationChanged", 4: "superseded",
                                           5: "cessationOfOperation", 6: "certificateHold"]

    static func run(store: URL, passphrase: String, in folder: URL) throws -> (seconds: Double, peakMB: Double) {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let queue = try DatabaseQueue(path: store.appendingPathComponent("iotca.db").path)
        var index = ""
        index.reserveCapacity(1 << 20)
        try queue.read { db in
            let rows = try Row.fetchCursor(db, sql: """
                SELECT c.serial, c.not_after, c.revoked_at, c.revocation_reason FROM certificates c
                JOIN authorities a ON a.id = c.authority_id WHERE a.name = 'issuing' AND c.status = 'revoked'
                """)
            while let row = try rows.next() {
                let reason = (row["revocation_reason"] as String?).flatMap(RevocationReason.init(rawValue:)).flatMap { reasons[$0.code] }
                let revoked = utc(row["revoked_at"]) + (reason.map { "," + $0 } ?? "")
                index += "R\t\(utc(row["not_after"]))\t\(revoked)\t\((row["serial"] as String).uppercased())\tunknown\t/CN=seed\n"
            }
        }
        try Data(index.utf8).write(to: folder.appendingPathComponent("index.txt"))
        try Data("01\n".utf8).write(to: folder.appendingPathComponent("crlnumber"))
        try Data("""
            [ ca ]
            default_ca = issuing
            [ issuing ]
            database = \(folder.path)/index.txt
            crlnumber = \(folder.path)/crlnumber
            default_md = sha256
            default_crl_days = 7
            crl_extensions = crl_extensions
            [ crl_extensions ]
            authorityKeyIdentifier = keyid:always

            """.utf8).write(to: folder.appendingPathComponent("ca.cnf"))
        let opened = try Store.open(store)
        let keyFile = try opened.authority(named: "issuing").keyFile
        let key = folder.appendingPathComponent("issuing.key").path
        _ = try spawn(["/usr/bin/openssl", "pkey", "-in", store.appendingPathComponent(keyFile).path, "-passin", "pass:\(passphrase)", "-out", key])
        let certificate = store.appendingPathComponent("public/issuing.crt").path
        return try spawn(["/usr/bin/openssl", "ca", "-gencrl", "-batch", "-config", folder.appendingPathComponent("ca.cnf").path,
                          "-keyfile", key, "-cert", certificate, "-out", folder.appendingPathComponent("crl.pem").path])
    }

    /// YYMMDDHHMMSSZ, as index.txt writes times.
    static func utc(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyMMddHHmmss'Z'"
        return formatter.string(from: date)
    }

    /// Runs `arguments` to the end; its wall time and peak RSS (wait4's rusage: its alone).
    static func spawn(_ arguments: [String]) throws -> (seconds: Double, peakMB: Double) {
        var pid: pid_t = 0
        var argv = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let start = ContinuousClock.now
        guard posix_spawn(&pid, arguments[0], nil, nil, &argv, environ) == 0 else { throw CocoaError(.executableLoad) }
        var status: Int32 = 0
        var usage = rusage()
        _ = wait4(pid, &status, 0, &usage)
        let elapsed = ContinuousClock.now - start
        guard status == 0 else { throw CocoaError(.executableRuntimeMismatch) }
        return (IssueBench.seconds(elapsed), Double(usage.ru_maxrss) / 1024)
    }
}
