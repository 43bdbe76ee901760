import ArgumentParser
import Foundation
import IoTCAKit
import Synchronization

/// CA signatures and device bundles per second with the issuing key in a SoftHSM2 token,
/// beside the same runs with a key file, in one process on the same machine.
struct PKCS11Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pkcs11",
        abstract: "Signatures and bundles per second with the CA key in SoftHSM2 beside a key file.")

    @Option(help: "Operations per row.") var count = 2_000
    @Option(help: "Threads for the concurrent rows.") var threads = 4
    @Option(help: "The PKCS#11 module.") var module = "/usr/lib/softhsm/libsofthsm2.so"
    @Option(help: "Key type of the CAs: ec-p256, ec-p384, rsa-2048, ...") var keyType: KeyAlgorithm = .ecP256

    func run() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("iotca-pkcs11-bench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: root.appendingPathComponent("tokens"), withIntermediateDirectories: true)
        // SoftHSM2 finds its token folder through its own variable: this process's, set before the module loads.
        let conf = root.appendingPathComponent("softhsm2.conf")
        try Data("directories.tokendir = \(root.appendingPathComponent("tokens").path)\n".utf8).write(to: conf)
        setenv("SOFTHSM2_CONF", conf.path, 1)
        let made = Process()
        made.executableURL = URL(fileURLWithPath: "/usr/bin/softhsm2-util")
        made.arguments = ["--init-token", "--free", "--label", "bench", "--pin", "1234", "--so-pin", "5678"]
        made.standardOutput = FileHandle.nullDevice
        try made.run()
        made.waitUntilExit()
        guard made.terminationStatus == 0 else { throw ValidationError("softhsm2-util --init-token failed") }

        let passphrase = Passphrase("benchmark passphrase")
        var fileOptions = StoreInitializer.Options(keyType: keyType, passphrase: passphrase)
        fileOptions.keyProtection = .standard
        _ = try StoreInitializer.initialize(at: root.appendingPathComponent("file-store"), options: fileOptions)
        var tokenOptions = StoreInitializer.Options(keyType: keyType, passphrase: nil)
        tokenOptions.token = PKCS11URI(token: "bench", modulePath: module)
        tokenOptions.tokenPIN = .fixed(Passphrase("1234"))
        _ = try StoreInitializer.initialize(at: root.appendingPathComponent("token-store"), options: tokenOptions)

        print("CA key \(keyType.rawValue); \(count) operations per row; \(ProcessInfo.processInfo.activeProcessorCount) cores")
        print("row                                      key file      SoftHSM2   token/file")
        for (label, concurrent, sign) in [("CA signatures/s, 1 thread", 1, true), ("CA signatures/s, \(threads) threads", threads, true),
                                          ("device bundles/s, 1 thread", 1, false), ("device bundles/s, \(threads) threads", threads, false)] {
            let file = try rate(store: root.appendingPathComponent("file-store"), pin: nil, passphrase: passphrase, threads: concurrent, sign: sign)
            let token = try rate(store: root.appendingPathComponent("token-store"), pin: Passphrase("1234"), passphrase: nil,
                                 threads: concurrent, sign: sign)
            print("\(label.padding(toLength: 40, withPad: " ", startingAt: 0)) \(String(format: "%9.0f", file))  \(String(format: "%9.0f", token))   \(String(format: "%6.2f", token / file))")
        }
    }

    /// Operations per second: `sign` signs certificates for a fixed key (policy, signature,
    /// release check); otherwise whole bundles (key generation, signature, record; JSON form).
    func rate(store: URL, pin: Passphrase?, passphrase: Passphrase?, threads: Int, sign: Bool) throws -> Double {
        let authority = try CertificateAuthority(store: store, passphrase: .fixed(passphrase))
        authority.keyring.tokenPIN = pin.map { .fixed($0) }
        let out = store.deletingLastPathComponent().appendingPathComponent("bundles")
        let warm = try authority.issue(IssueRequest(thing: "warm-\(UUID().uuidString)"), into: out, format: .json)
        let publicKey = try warm.bundle.privateKey?.publicKey ?? { throw ValidationError("no key") }()
        let perThread = count / threads, keyring = authority.keyring
        let failures = Mutex<[String]>([])
        let start = ContinuousClock.now
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            do {
                let worker = CertificateAuthority(keyring: keyring)
                let provisioner = Provisioner(keyring: keyring)
                for index in 0..<perThread {
                    let thing = "t\(thread)-\(index)-\(sign ? "s" : "b")-\(UUID().uuidString.prefix(8))"
                    if sign {
                        let plan = try provisioner.plan(IssueRequest(thing: thing), bundleParent: nil)
                        _ = try Provisioner.sign(plan, publicKey: publicKey, now: Date())
                    } else {
                        _ = try worker.issue(IssueRequest(thing: thing), into: out, format: .json)
                    }
                }
            } catch {
                failures.withLock { $0.append("\(error)") }
            }
        }
        if let failure = failures.withLock({ $0.first }) { throw ValidationError(failure) }
        let seconds = (ContinuousClock.now - start) / .seconds(1)
        return Double(perThread * threads) / seconds
    }
}

extension KeyAlgorithm: ExpressibleByArgument {}
