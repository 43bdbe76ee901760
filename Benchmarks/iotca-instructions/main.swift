import Crypto
import Foundation
import IoTCAKit
import X509

// Runs COUNT operations of one kind on a fresh store, for `valgrind --tool=callgrind` to count
// their instructions (Benchmarks/instructions.sh runs it twice and divides the difference).
// Synchronous on purpose: `iotca` and `iotca-bench` have an asynchronous main, which waits in
// libdispatch's sigsuspend, and Debian 12's valgrind 3.19 crashes there ("the 'impossible'
// happened"); this program never starts that loop.
//
//   iotca-instructions issue|csr|batch|standing COUNT
enum Operation: String {
    /// One device bundle as `iotca issue` makes it: key, certificate, release check, record, files.
    case issue
    /// One issuance as the service makes it for `POST /v1/certificates` with a CSR: the CSR
    /// checked, the certificate signed, checked and recorded, the JSON answer's bundle (the
    /// HTTP and TLS around it are not counted). One CSR serves every thing: its parse and
    /// signature check cost the same whatever the key.
    case csr
    /// Bundles of one `batch --format jsonl` run (all cores: the count is the same on one).
    case batch
    /// The client check's read the service makes on every API request (an operator's standing:
    /// its certificate's status, its CA's, its grants), from a store nobody writes meanwhile.
    case standing
}

struct BatchRowFailed: Error, CustomStringConvertible {
    let description: String
}

func run(_ operation: Operation, count: Int) throws {
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("iotca-instructions-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: root) }
    let store = root.appendingPathComponent("store"), bundles = root.appendingPathComponent("bundles")
    // No passphrase: valgrind's CPU has no SHA extensions, and the key files' PBKDF2 would take
    // minutes there; an unlocking is a fixed cost per process anyway, which the difference removes.
    _ = try StoreInitializer.initialize(at: store, options: .init(passphrase: nil))
    let authority = try CertificateAuthority(store: store, passphrase: .fixed(nil))
    switch operation {
    case .issue:
        for index in 0..<count {
            _ = try authority.issue(IssueRequest(thing: "device-\(index)"), into: bundles, format: .json)
        }
    case .csr:
        let key = P256.Signing.PrivateKey()
        let csr = try CertificateSigningRequest(version: .v1, subject: try DistinguishedName { CommonName("device") },
                                                privateKey: .init(key), attributes: .init(), signatureAlgorithm: .ecdsaWithSHA256)
        let pem = Array(try csr.serializeAsPEM().pemString.utf8)
        let caller = Caller(role: .operator, name: "operator")
        for index in 0..<count {
            let request = IssueRequest(thing: "device-\(index)", csr: pem, caller: caller)
            _ = try authority.issue(request, into: URL(fileURLWithPath: "/"), format: .json)
        }
    case .batch:
        let file = root.appendingPathComponent("devices.csv")
        try (["thing"] + (0..<count).map { "device-\($0)" }).joined(separator: "\n").write(to: file, atomically: true, encoding: .utf8)
        var options = BatchOptions()
        options.format = .jsonl
        let report = try authority.batch(file, into: root.appendingPathComponent("bundles.jsonl"), options: options)
        if let failure = report.failures.first { throw BatchRowFailed(description: failure.error) }
    case .standing:
        let client = try authority.createClient("operator", role: .operator, grants: [], into: root.appendingPathComponent("operator"))
        let certificate = try Certificate(derEncoded: client.bundle.certificateDER)
        let serial = SerialNumber(bytes: Array(certificate.serialNumber.bytes))
        let opened = try Store.open(store)
        for _ in 0..<count {
            guard try opened.clientStanding(serial: serial, der: client.bundle.certificateDER)?.status == .active else {
                throw BatchRowFailed(description: "the operator's standing did not read as active")
            }
        }
    }
}

let arguments = Array(CommandLine.arguments.dropFirst())
guard arguments.count == 2, let operation = Operation(rawValue: arguments[0]), let count = Int(arguments[1]), count >= 0 else {
    FileHandle.standardError.write(Data("usage: iotca-instructions issue|csr|batch|standing COUNT\n".utf8))
    exit(2)
}
do {
    try run(operation, count: count)
} catch {
    FileHandle.standardError.write(Data("iotca-instructions: \(error)\n".utf8))
    exit(1)
}
