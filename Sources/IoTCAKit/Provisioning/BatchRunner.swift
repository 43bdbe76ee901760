import COpenSSL
import Foundation
import X509

/// How `iotca batch` runs.
public struct BatchOptions: Sendable {
    public var authority = "issuing"
    public var template = "device"
    public var format: BundleFormat = .dir
    public var jobs = ProcessInfo.processInfo.activeProcessorCount
    public var failFast = false
    /// Rows signed, committed in one transaction and written per chunk.
    public var chunkSize = 500
    public var bundlePassphrase: Passphrase?

    public init() {}
}

/// What a batch did, for the summary line and `--json`.
public struct BatchReport: Sendable, Encodable {
    public var total = 0
    public var issued = 0
    /// Things that already had an active certificate and a bundle (an earlier run).
    public var skipped = 0
    /// Things whose earlier run recorded a certificate but died before writing the bundle:
    /// issued again, the orphan revoked as superseded.
    public var recovered = 0
    public var failed = 0
    public var seconds = 0.0
    public var failures: [BatchRowError] = []

    public var rate: Double { seconds > 0 ? Double(issued + recovered) / seconds : 0 }

    enum CodingKeys: String, CodingKey { case total, issued, skipped, recovered, failed, seconds, rate, failures }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(total, forKey: .total)
        try container.encode(issued, forKey: .issued)
        try container.encode(skipped, forKey: .skipped)
        try container.encode(recovered, forKey: .recovered)
        try container.encode(failed, forKey: .failed)
        try container.encode((seconds * 1000).rounded() / 1000, forKey: .seconds)
        try container.encode(rate.rounded(), forKey: .rate)
        try container.encode(failures, forKey: .failures)
    }
}

/// `iotca batch`: provisions every row of a batch file in one process. The CA key is opened
/// once; key generation and signing run on all cores; each chunk is recorded in one
/// transaction before its bundles are written, so a batch killed at any moment leaves only
/// bundles whose rows exist, and a re-run skips what is done and finishes the rest.
public final class BatchRunner {
    public let provisioner: Provisioner
    public var store: Store { provisioner.store }

    public init(keyring: Keyring) {
        provisioner = Provisioner(keyring: keyring)
    }

    public func run(file: URL, out: URL, options: BatchOptions, progress: ((Int, Int) -> Void)? = nil) throws -> BatchReport {
        let start = Date()
        lines = [:]
        var report = BatchReport()
        // Refused before any key is made or any folder created: every row would fail to record.
        if store.isReadOnly { throw StoreError.readOnly(path: store.layout.database.path) }
        let (rows, unreadable) = try BatchFile.read(file)
        report.total = rows.count + unreadable.count
        report.failures = unreadable
        if options.format == .p12 && (options.bundlePassphrase?.isEmpty ?? true) {
            throw PolicyError.invalidOption("--format p12", reason: "needs a bundle passphrase: set IOTCA_BUNDLE_PASSPHRASE or use --bundle-passphrase-file")
        }
        let authority = try store.authority(named: options.authority)
        let signer = try provisioner.keyring.signer(for: authority)
        let chain = try provisioner.chain(of: authority)
        let organization = try store.organization()
        let active = try store.thingsWithActiveCertificates()
        let folder = file.deletingLastPathComponent()
        BundleFolder.removeAbandonedStaging(in: out)

        // The file-level checks first, in order: names, duplicates, templates, CSR files.
        var seen: [String: Int] = [:]
        var requests: [(line: Int, request: IssueRequest, template: Template)] = []
        for row in rows {
            do {
                if let first = seen[row.thing] { throw PolicyError.invalidOption("thing", reason: "\(row.thing) is listed twice (first on line \(first))") }
                seen[row.thing] = row.line
                var renew = false
                if active.contains(row.thing) {
                    if let location = Bundle.location(of: row.thing, format: options.format, in: out),
                       !FileManager.default.fileExists(atPath: location.path) {
                        renew = true  // recorded by a run that died before the bundle: recover
                    } else {
                        report.skipped += 1
                        continue
                    }
                }
                let csr = try row.csr.map { path -> [UInt8] in
                    let url = path.hasPrefix("/") ? URL(fileURLWithPath: path) : folder.appendingPathComponent(path)
                    guard let data = FileManager.default.contents(atPath: url.path) else {
                        throw PolicyError.invalidCSR(reason: "cannot read \(url.path)")
                    }
                    return Array(data)
                }
                let request = IssueRequest(thing: row.thing, authority: authority.name, template: row.template ?? options.template,
                                           attributes: row.attributes, csr: csr, renew: renew, force: renew, supersede: renew)
                requests.append((row.line, request, try provisioner.template(request.template)))
                lines[row.thing] = row.line
            } catch let error as any IoTCAError {
                report.failures.append(BatchRowError(line: row.line, thing: row.thing, error: error.description))
            }
        }
        func plan(_ index: Int) throws -> Provisioner.Plan {
            let item = requests[index]
            return try Provisioner.plan(item.request, template: item.template, signer: signer, authority: authority, chain: chain,
                                        organization: organization, format: options.format)
        }
        // Each row's own checks (attributes, rendered names, CSR keys) run on the workers just
        // before its key, so a long batch never holds every row's plan. With --fail-fast they
        // all run first, on every core, so that one bad row stops the batch before any work.
        let planned: [Provisioner.Plan?]
        if options.failFast {
            let results = Parallel.map(requests.count, workers: options.jobs, state: Array(repeating: (), count: max(1, options.jobs))) { _, index in
                Result<Provisioner.Plan, any Error> { try plan(index) }
            }
            for (item, result) in zip(requests, results) {
                if case .failure(let error) = result { fail(&report, item.request.thing, error) }
            }
            if !report.failures.isEmpty { return finish(report, start: start) }
            planned = results.map { try? $0.get() }
        } else {
            planned = []
        }

        var superseded: [SerialNumber] = []
        var done = report.skipped
        var syncing: DispatchGroup?
        // Opened (made if missing) before the first chunk is recorded, not before: a batch
        // that records nothing leaves no folder behind.
        var bundleFolder: BundleFolder?
        let pipeline = BatchPipeline(jobs: options.jobs, sign: { index, generator, now in
            BatchPipeline.Signed {
                let plan = try planned.isEmpty ? plan(index) : planned[index] ?? plan(index)
                let (issued, key, algorithm) = try Provisioner.keyAndCertificate(plan, generator: generator, now: now)
                return (plan, issued, key, algorithm)
            }
        }) { item, worker in
            let bundle = try Provisioner.bundle(item.plan, entry: item.entry, key: item.key)
            if options.format == .dir, let bundleFolder {
                try bundle.write(into: bundleFolder, replace: item.plan.request.renew, durable: false, stagingSlot: worker)
            } else {
                _ = try bundle.write(options.format, into: out, replace: item.plan.request.renew,
                                     passphrase: options.bundlePassphrase, durable: false)
            }
        }
        defer { syncing?.wait() }
        try pipeline.run(count: requests.count, chunkSize: options.chunkSize, record: { rows, signed, now in
            // One transaction for the chunk, before any of its bundles exists.
            var recordable: [BatchPipeline.Recorded] = []
            recordable.reserveCapacity(rows.count)
            for (index, result) in zip(rows, signed) {
                switch result {
                case .success(let row):
                    let entry = Provisioner.entry(row.plan, issued: row.issued, keyAlgorithm: row.algorithm, now: now)
                    recordable.append(.init(plan: row.plan, entry: entry, key: row.key))
                case .failure(let error):
                    fail(&report, requests[index].request.thing, error)
                }
            }
            if bundleFolder == nil && options.format == .dir && !recordable.isEmpty { bundleFolder = try BundleFolder(out, privateStaging: true) }
            let recorded = try store.recordIssuances(recordable.map { item in
                (item.entry, item.plan.request.attributes, item.plan.request.renew, item.plan.request.supersede)
            })
            var toWrite: [BatchPipeline.Recorded] = []
            toWrite.reserveCapacity(recordable.count)
            for (item, outcome) in zip(recordable, recorded) {
                switch outcome {
                case .success(let previous):
                    toWrite.append(item)
                    superseded += previous
                case .failure(let conflict):
                    fail(&report, item.plan.request.thing, conflict)
                }
            }
            done += rows.count - toWrite.count  // the chunk's failed rows count as done
            return toWrite
        }, written: { rows in
            for (item, error) in rows {
                if let error {
                    fail(&report, item.plan.request.thing, BundleNotWritten(
                        serial: item.entry.serial.hex, thing: item.plan.request.thing,
                        cause: error as? OutputError ?? .writeFailed(path: out.path, detail: "\(error)")))
                } else if item.plan.request.renew {
                    report.recovered += 1
                } else {
                    report.issued += 1
                }
            }
            // The chunk's bundles reach the disk while the next ones are written; one sync at
            // a time, and a last one below before the batch reports.
            if syncing.map({ $0.wait(timeout: .now()) == .success }) ?? true {
                syncing = Self.syncFileSystemInBackground(of: out)
            }
            done += rows.count
            progress?(done, requests.count + report.skipped)
        }, shouldStop: { options.failFast && !report.failures.isEmpty })
        syncing?.wait()
        syncing = Self.syncFileSystemInBackground(of: out)
        syncing?.wait()
        syncing = nil
        if !superseded.isEmpty {
            // Revoked with their replacements above; now on the CRL too (or on the next
            // `crl publish --if-due`, if this process dies first).
            _ = try RevocationService(keyring: provisioner.keyring).publish(authority.name)
        }
        return finish(report, start: start)
    }

    /// The file line of each planned thing, for failures found after planning.
    private var lines: [String: Int] = [:]

    private func fail(_ report: inout BatchReport, _ thing: String, _ error: any Error) {
        let text = (error as? any IoTCAError)?.description ?? "\(error)"
        report.failures.append(BatchRowError(line: lines[thing] ?? 0, thing: thing, error: text))
    }

    private func finish(_ report: BatchReport, start: Date) -> BatchReport {
        var report = report
        report.failed = report.failures.count
        report.failures.sort { $0.line < $1.line }
        report.seconds = Date().timeIntervalSince(start)
        return report
    }

    /// One syncfs(2) per chunk instead of an fsync per file: bundles survive a power cut
    /// once the batch has reported them.
    static func syncFileSystemInBackground(of folder: URL) -> DispatchGroup {
        let group = DispatchGroup()
        let path = folder.path
        DispatchQueue.global().async(group: group) {
            let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            guard descriptor >= 0 else { return }
            _ = syncfs(descriptor)
            close(descriptor)
        }
        return group
    }
}
