import ArgumentParser
import Foundation
import IoTCAKit

/// Benchmarks that print figures; never part of the test suite.
@main
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "iotca-bench", abstract: "iotca benchmarks (figures, not tests).",
        subcommands: [IssueBench.self, CMPBench.self, CRLBench.self, StressBench.self, CrashBench.self, FuzzBench.self, CRLPublishOnce.self,
                      ServeBench.self, OCSPBench.self, ESTBench.self, PKCS11Bench.self, SharedStoreBench.self, FleetBench.self])
}

struct IssueBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "issue",
        abstract: "Issue N device bundles with key generation in one process, one after another, and time each phase.")

    @Option(help: "Number of bundles.")
    var count = 1_000

    @Option(help: "Device key type (the template's is ec-p256).")
    var template = "device"

    @Option(help: "Folder for the store and bundles (default: a temporary folder, removed afterwards).")
    var folder: String?

    func run() throws {
        let root = folder.map { URL(fileURLWithPath: $0) }
            ?? FileManager.default.temporaryDirectory.appendingPathComponent("iotca-bench-\(UUID().uuidString)")
        defer { if folder == nil { try? FileManager.default.removeItem(at: root) } }
        let passphrase = Passphrase("benchmark passphrase")
        _ = try StoreInitializer.initialize(at: root.appendingPathComponent("store"), options: .init(passphrase: passphrase))
        let store = try Store.open(root.appendingPathComponent("store"))
        let provisioner = Provisioner(keyring: Keyring(store: store, passphrase: .fixed(passphrase)))
        let bundles = root.appendingPathComponent("bundles")

        let clock = ContinuousClock()
        var phases: [String: Duration] = ["plan": .zero, "keygen": .zero, "sign": .zero, "store": .zero, "files": .zero]
        func timed<T>(_ phase: String, _ body: () throws -> T) rethrows -> T {
            let start = clock.now
            defer { phases[phase, default: .zero] += clock.now - start }
            return try body()
        }
        // The first issuance opens the CA key (one passphrase decryption) and warms caches.
        _ = try provisioner.issue(IssueRequest(thing: "warm-up", template: template), bundleParent: bundles)

        let start = clock.now
        for index in 0..<count {
            let request = IssueRequest(thing: "device-\(index)", template: template)
            let plan = try timed("plan") { try provisioner.plan(request, bundleParent: bundles) }
            let key = try timed("keygen") { try provisioner.generator.generate(plan.template.keyType) }
            let issued = try timed("sign") { try Provisioner.sign(plan, publicKey: key.publicKey, now: Date()) }
            let entry = try timed("store") { try provisioner.record(plan, issued: issued, keyAlgorithm: key.algorithm, now: Date(), target: "dir:" + bundles.path).entry }
            try timed("files") {
                _ = try Provisioner.bundle(plan, entry: entry, key: key).write(into: bundles, replace: false)
            }
        }
        let total = clock.now - start
        let seconds = Self.seconds(total)
        print("iotca-bench issue: \(count) device bundles (template \(template)), one process, sequential")
        print(String(format: "total %.2f s, %.0f bundles/s", seconds, Double(count) / seconds))
        print("phase     total s   per bundle µs   share")
        for phase in ["plan", "keygen", "sign", "store", "files"] {
            let phaseSeconds = Self.seconds(phases[phase] ?? .zero)
            print(String(format: "%-8@ %8.2f %15.1f %7.1f%%", phase as NSString, phaseSeconds,
                         phaseSeconds / Double(count) * 1e6, phaseSeconds / seconds * 100))
        }
        let recorded = try store.certificates(CertificateFilter()).count
        print("recorded certificates: \(recorded) (expected \(count + 1))")
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}

struct CRLBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crl",
        abstract: "Time and peak memory of publishing a CRL with N entries (each N in a fresh store and a fresh process).")

    @Option(name: .customLong("entries"), help: "CRL sizes to measure (repeatable).")
    var sizes: [Int] = [10_000, 100_000, 1_000_000]

    @Flag(help: "Also run `openssl ca -gencrl` over the same entries with the same key, in the same run.")
    var openssl = false

    @Option(help: ArgumentHelp("Keep the seeded store of the last size here (to profile `crl-publish-once --store` on it).", valueName: "DIR"))
    var keep: String?

    func run() throws {
        print("entries     seconds   peak RSS MB   CRL MB   (iotca crl publish --ca issuing, release build, fresh process)")
        for size in sizes {
            let folder = keep.map { URL(fileURLWithPath: $0) } ?? FileManager.default.temporaryDirectory.appendingPathComponent("iotca-crl-bench-\(UUID().uuidString)")
            defer { if keep == nil { try? FileManager.default.removeItem(at: folder) } }
            let storeURL = folder.appendingPathComponent("store")
            _ = try StoreInitializer.initialize(at: storeURL, options: .init(passphrase: Passphrase("benchmark passphrase")))
            try SeedRevoked.seed(store: storeURL, count: size, authority: "issuing")
            // Publish in a child process so its peak RSS is the CRL's alone, not the seeding's.
            let child = Process()
            child.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
            child.arguments = ["crl-publish-once", "--store", storeURL.path]
            let pipe = Pipe()
            child.standardOutput = pipe
            try child.run()
            let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            child.waitUntilExit()
            let parsed = try Process.run(URL(fileURLWithPath: "/usr/bin/env"), arguments: [
                "openssl", "crl", "-inform", "DER", "-noout", "-in", storeURL.appendingPathComponent("public/issuing.crl").path,
            ])
            parsed.waitUntilExit()
            print(String(format: "%-10d %@ %@", size, output.trimmingCharacters(in: .whitespacesAndNewlines),
                         parsed.terminationStatus == 0 ? "openssl crl: parses" : "openssl crl: FAILED TO PARSE"))
            if openssl {
                let peer = try OpenSSLGenCRL.run(store: storeURL, passphrase: "benchmark passphrase", in: folder.appendingPathComponent("openssl"))
                print(String(format: "%-10@ %8.2f %13.0f            (openssl ca -gencrl, same entries and key)", "", peer.seconds, peer.peakMB))
            }
        }
    }
}

struct CRLPublishOnce: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crl-publish-once", abstract: "(used by `crl`) publish the issuing CA's CRL once and print figures.",
        shouldDisplay: false)

    @Option var store: String

    func run() throws {
        let opened = try Store.open(URL(fileURLWithPath: store))
        let service = RevocationService(keyring: Keyring(store: opened, passphrase: .fixed(Passphrase("benchmark passphrase"))))
        let clock = ContinuousClock()
        let start = clock.now
        let record = try service.publish("issuing")
        let seconds = IssueBench.seconds(clock.now - start)
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let size = (try? FileManager.default.attributesOfItem(atPath: service.crlFiles(of: "issuing").der.path)[.size] as? Int) ?? 0
        print(String(format: "%8.2f %13.0f %8.1f   (%d entries listed)", seconds, Double(usage.ru_maxrss) / 1024,
                     Double(size) / 1_048_576, record?.entries ?? 0))
    }
}
