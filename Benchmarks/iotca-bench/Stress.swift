import ArgumentParser
import Foundation
import IoTCAKit
import Synchronization

/// Runs the `iotca` binary that sits beside this benchmark.
enum IoTCABinary {
    static var path: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("iotca").path
    }

    /// Runs iotca to completion; returns the exit status and stderr.
    static func run(_ arguments: [String], store: URL, folder: URL) throws -> (Int32, String) {
        let (process, errorFile) = try start(arguments, store: store, folder: folder)
        process.waitUntilExit()
        defer { try? FileManager.default.removeItem(at: errorFile) }
        return (process.terminationStatus, (try? String(contentsOf: errorFile, encoding: .utf8)) ?? "")
    }

    /// Starts iotca with stderr going to a file (returned), never a pipe another child could hold.
    static func start(_ arguments: [String], store: URL, folder: URL) throws -> (Process, URL) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.currentDirectoryURL = folder
        var environment = ProcessInfo.processInfo.environment
        environment["IOTCA_STORE"] = store.path
        environment["IOTCA_PASSPHRASE"] = "stress passphrase"
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        let errorFile = folder.appendingPathComponent("stderr-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: errorFile.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: errorFile)
        try process.run()
        return (process, errorFile)
    }

    /// A scratch folder for one command's run, and a store in it.
    static func scratch(_ label: String) throws -> (folder: URL, store: URL) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("iotca-\(label)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return (folder, try makeStore(in: folder))
    }

    static func makeStore(in folder: URL) throws -> URL {
        let store = folder.appendingPathComponent("store")
        _ = try StoreInitializer.initialize(at: store, options: .init(passphrase: Passphrase("stress passphrase")))
        return store
    }
}

struct StressBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stress",
        abstract: "Two factory lines and an operator on one store at once: separate iotca processes issuing, revoking and publishing CRLs.")

    @Option(help: "Operations per worker process line.") var operations = 50
    @Option(help: "Factory lines issuing in parallel (plus one revoking and one publishing).") var lines = 2

    func run() throws {
        let (folder, store) = try IoTCABinary.scratch("stress")
        defer { try? FileManager.default.removeItem(at: folder) }
        let failures = Mutex<[String]>([])
        let done = Atomic<Int>(0)
        let start = Date()
        let workers = lines + 2
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            for index in 0..<operations {
                let arguments: [String]
                var acceptable: Set<Int32> = [0]
                if worker < lines {
                    arguments = ["issue", "line\(worker)-\(index)", "--out", "bundles"]
                } else if worker == lines {
                    // The operator revokes devices of line 0 as they appear.
                    arguments = ["revoke", "--thing", "line0-\(index)", "--reason", "key-compromise"]
                    acceptable = [0, 8]  // 8: not found, the CLI's documented exit status
                } else {
                    arguments = ["crl", "publish"]
                }
                do {
                    let (status, errors) = try IoTCABinary.run(arguments, store: store, folder: folder)
                    if !acceptable.contains(status) || errors.lowercased().contains("locked") || errors.lowercased().contains("busy") {
                        failures.withLock { $0.append("\(arguments.joined(separator: " ")): exit \(status): \(errors)") }
                    }
                } catch {
                    failures.withLock { $0.append("\(arguments): \(error)") }
                }
                done.add(1, ordering: .relaxed)
            }
        }
        let seconds = Date().timeIntervalSince(start)
        let opened = try Store.open(store)
        var all = CertificateFilter()
        all.includeAuthorities = true
        let entries = try opened.certificates(all)
        let duplicateSerials = entries.count - Set(entries.map { "\($0.authority)/\($0.serial.hex)" }).count
        let issued = entries.filter { $0.thing?.hasPrefix("line") == true }.count
        let doctor = try Doctor(store: opened).examine(bundles: folder.appendingPathComponent("bundles"))
        let failed = failures.withLock { $0 }
        print("iotca-bench stress: \(workers) processes at a time (\(lines) issuing lines, 1 revoking, 1 publishing CRLs), one store")
        print(String(format: "operations %d in %.1f s (%.0f/s), failures %d", done.load(ordering: .relaxed), seconds,
                     Double(done.load(ordering: .relaxed)) / seconds, failed.count))
        print("certificates issued \(issued) of \(lines * operations), duplicate serials \(duplicateSerials), doctor findings \(doctor.findings.count)")
        for failure in failed.prefix(5) { print("  failure: \(failure)") }
        for finding in doctor.findings.prefix(5) { print("  finding: \(finding.check): \(finding.subject): \(finding.problem)") }
        if !failed.isEmpty || duplicateSerials > 0 || issued != lines * operations || !doctor.healthy { throw ExitCode(1) }
    }
}

struct CrashBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crash",
        abstract: "kill -9 iotca at random points of batch, issue, revoke and CRL publish, then check with doctor and finish the work.")

    @Option(help: "How many processes to kill.") var kills = 200
    @Option(help: "Rows in the batch file the killed batches work through.") var rows = 2_000

    func run() throws {
        let (folder, store) = try IoTCABinary.scratch("crash")
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data(("thing\n" + (0..<rows).map { "dev-\($0)\n" }.joined()).utf8).write(to: folder.appendingPathComponent("devices.csv"))
        var generator = SystemRandomNumberGenerator()
        var killed = 0, finished = 0
        let start = Date()
        for round in 0..<kills {
            let arguments: [String]
            switch round % 4 {
            case 0, 1: arguments = ["batch", "devices.csv", "--out", "bundles"]
            case 2: arguments = ["issue", "single-\(round)", "--out", "bundles"]
            default: arguments = round % 8 == 3 ? ["revoke", "--thing", "single-\(round - 1)"] : ["crl", "publish"]
            }
            let (process, errorFile) = try IoTCABinary.start(arguments, store: store, folder: folder)
            defer { try? FileManager.default.removeItem(at: errorFile) }
            usleep(UInt32.random(in: 5_000...120_000, using: &generator))
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                killed += 1
            } else {
                finished += 1
            }
            process.waitUntilExit()
        }
        // Finish the work and repair what the kills interrupted, as an operator would.
        let (batchStatus, batchErrors) = try IoTCABinary.run(["batch", "devices.csv", "--out", "bundles"], store: store, folder: folder)
        let (crlStatus, _) = try IoTCABinary.run(["crl", "publish", "--if-due"], store: store, folder: folder)
        let opened = try Store.open(store)
        let active = try opened.certificates(CertificateFilter(status: .active)).filter { $0.thing?.hasPrefix("dev-") == true }
        let doctor = try Doctor(store: opened).examine(bundles: folder.appendingPathComponent("bundles"))
        print("iotca-bench crash: \(kills) rounds in \(String(format: "%.0f", Date().timeIntervalSince(start))) s: \(killed) processes killed with SIGKILL, \(finished) finished first")
        print("after the re-run: batch exit \(batchStatus), crl publish exit \(crlStatus), \(active.count) of \(rows) devices with exactly one active certificate: \(Set(active.compactMap(\.thing)).count == active.count)")
        print("doctor: \(doctor.certificates) certificates, \(doctor.crls) CRLs, \(doctor.events) events, \(doctor.bundles) bundles, findings \(doctor.findings.count)")
        for finding in doctor.findings.prefix(10) { print("  finding: \(finding.check): \(finding.subject): \(finding.problem)") }
        if batchStatus != 0 { print("  batch: \(batchErrors)") }
        if !doctor.healthy || active.count != rows || batchStatus != 0 { throw ExitCode(1) }
    }
}
