import COpenSSL
import Foundation
import X509

/// What a batch did, for the summary line and `--json`.
public struct BatchReport: Sendable, Encodable {
    public var total = 0
    public var issued = 0
    /// Things that already had an active certificate: an earlier run's, a bundle moved to the
    /// device, another output's. Never re-issued or revoked without `renew`.
    public var skipped = 0
    /// Things whose certificate an earlier run into this same output and format recorded but
    /// died before writing the bundle: issued again, the unwritten one revoked as superseded.
    public var recovered = 0
    public var failed = 0
    public var seconds = 0.0
    public var failures: [BatchRowError] = []

    public var rate: Double { seconds > 0 ? Double(issued + recovered) / seconds : 0 }

    public init() {}

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

    /// Row failures are reported in the `BatchReport`, not thrown.
    /// - Throws: for the whole batch only: `StoreError` (read-only, busy), `PolicyError` (the
    ///   file, the p12 passphrase), `AuthorityError`, `KeyError`, `BatchBusy` (conflict).
    public func run(file: URL, out: URL, options: BatchOptions, progress: ((Int, Int) -> Void)? = nil) throws -> BatchReport {
        let started = ContinuousClock.now
        lines = [:]
        var report = BatchReport()
        // Refused before any key is made or any folder created: every row would fail to record.
        if store.isReadOnly { throw StoreError.readOnly(path: store.layout.database.path) }
        let (rows, unreadable) = try BatchFile.read(file)
        report.total = rows.count + unreadable.count
        report.failures = unreadable
        try options.format.requirePassphrase(options.bundlePassphrase)
        let authority = try store.authority(named: options.authority)
        let signer = try provisioner.keyring.signer(for: authority)
        let chain = try provisioner.chain(of: authority)
        let organization = try store.organization()
        let target = DeliveryTarget.make(format: options.format, out: out)
        // One batch at a time per output: recovery below trusts that no other run is between
        // recording and writing into this folder.
        let lock = try BatchLock(store: store, target: target, out: out)
        defer { lock.release() }
        let active = try store.activeThings(recoverableFor: target, among: rows.map(\.thing))
        let folder = file.deletingLastPathComponent()
        // jsonl: one file (or standard output, `/dev/stdout`), its lines appended per chunk.
        let jsonl = options.format == .jsonl ? try JSONLinesOutput(out) : nil
        if jsonl == nil { BundleFolder.removeAbandonedStaging(in: out, now: store.clock.now()) }

        // The file-level checks first, in order: names, duplicates, templates, CSR files.
        var seen: [String: Int] = [:]
        var requests: [(line: Int, request: IssueRequest, template: Template)] = []
        var confirmed: [(thing: String, serial: SerialNumber)] = []
        for row in rows {
            do {
                if let first = seen[row.thing] { throw PolicyError.invalidValue("thing", reason: "\(row.thing) is listed twice (first on line \(first))") }
                seen[row.thing] = row.line
                let templateName = row.template ?? options.template
                guard templateName == options.template || options.allowedTemplates.contains(templateName) else {
                    throw PolicyError.templateNotAllowed(templateName, batchTemplate: options.template)
                }
                var recover = false
                if let recoverable = active[row.thing] {
                    guard recoverable else {
                        report.skipped += 1
                        continue
                    }
                    // Recorded for this output by a run that died before its bundle was
                    // reported. If the bundle made it to the disk after all, keep it.
                    if let serial = try recordedBundleOnDisk(row.thing, format: options.format, out: out, jsonl: jsonl) {
                        confirmed.append((row.thing, serial))
                        report.skipped += 1
                        continue
                    }
                    recover = true
                }
                let csr = try row.csr.map { path throws(PolicyError) in try RequestFile.read(path, limit: CSRCheck.maximumSize, within: folder) }
                var request = IssueRequest(thing: row.thing, authority: authority.name, template: templateName,
                                           attributes: row.attributes, csr: csr, renew: false, force: recover, supersede: false)
                request.certificationDeclaration = options.certificationDeclaration
                requests.append((row.line, request, try provisioner.template(request.template)))
                lines[row.thing] = row.line
            } catch let error as any IoTCAError {
                report.failures.append(BatchRowError(line: row.line, thing: row.thing, error: error.description, cause: error))
            }
        }
        try store.markWritten(confirmed)
        func plan(_ index: Int) throws -> Provisioner.Plan {
            let item = requests[index]
            return try Provisioner.plan(item.request, template: item.template, signer: signer, authority: authority, chain: chain,
                                        organization: organization, format: options.format)
        }
        // Each row's own checks (attributes, rendered names, CSR keys) run on the workers just
        // before its key, so a long batch never holds every row's plan. With fail-fast they all
        // run first, so that one bad row stops the batch before any work: on this thread, since
        // checks cost microseconds a row, and the pipeline's workers are the one pool of threads.
        let planned: [Provisioner.Plan?]
        if options.failFast {
            let results = requests.indices.map { index in Result<Provisioner.Plan, any Error> { try plan(index) } }
            for (item, result) in zip(requests, results) {
                if case .failure(let error) = result { fail(&report, item.request.thing, error) }
            }
            if !report.failures.isEmpty { return finish(report, started: started) }
            planned = results.map { try? $0.get() }
        } else {
            planned = []
        }

        var superseded = false
        var done = report.skipped
        // Bundles written but not yet synced, and those a running sync covers: marked
        // `written` in the store only once they are on the disk.
        var unsynced: [(thing: String, serial: SerialNumber)] = []
        var syncing: (group: DispatchGroup, serials: [(thing: String, serial: SerialNumber)])?
        // Opened (made if missing) before the first chunk is recorded, not before: a batch
        // that records nothing leaves no folder behind.
        var bundleFolder: BundleFolder?
        let pipeline = BatchPipeline(jobs: options.jobs, clock: store.clock, sign: { index, generator, now in
            BatchPipeline.Signed {
                let plan = try planned.isEmpty ? plan(index) : planned[index] ?? plan(index)
                let (issued, key, algorithm) = try Provisioner.keyAndCertificate(plan, generator: generator, now: now)
                return (plan, issued, key, algorithm)
            }
        }) { item, worker in
            let bundle = try Provisioner.bundle(item.plan, entry: item.entry, key: item.key, format: options.format)
            if let jsonl {
                jsonl.stage(bundle, serial: item.entry.serial)
            } else if options.format.isFolder, let bundleFolder {
                try bundle.write(into: bundleFolder, format: options.format, replace: item.plan.request.force, durable: false, stagingSlot: worker)
            } else {
                _ = try bundle.write(options.format, into: out, replace: item.plan.request.force,
                                     passphrase: options.bundlePassphrase, durable: false)
            }
        }
        /// Marks what a finished sync covered; starts a sync of what was written since.
        func markSynced(wait: Bool) throws {
            if let running = syncing {
                guard wait || running.group.wait(timeout: .now()) == .success else { return }
                running.group.wait()
                try store.markWritten(running.serials)
                syncing = nil
            }
            if !unsynced.isEmpty {
                syncing = (Self.syncFileSystemInBackground(of: out), unsynced)
                unsynced = []
            }
        }
        defer { syncing?.group.wait() }
        var markFailure: (any Error)?
        try pipeline.run(count: requests.count, chunkSize: options.chunkSize, record: { rows, signed, now in
            // One transaction for the chunk, before any of its bundles exists.
            var recordable: [BatchPipeline.Recorded] = []
            recordable.reserveCapacity(rows.count)
            for (index, result) in zip(rows, signed) {
                switch result {
                case .success(let row):
                    let entry = Provisioner.entry(row.plan, issued: row.issued, keyAlgorithm: row.algorithm, now: now, target: target)
                    recordable.append(.init(plan: row.plan, entry: entry, key: row.key))
                case .failure(let error):
                    fail(&report, requests[index].request.thing, error)
                }
            }
            if bundleFolder == nil && options.format.isFolder && !recordable.isEmpty { bundleFolder = try BundleFolder(out, privateStaging: true) }
            let recorded = try store.recordIssuances(recordable.map { item in
                Store.Issuance(entry: item.entry, attributes: item.plan.request.attributes,
                               recoverTarget: item.plan.request.force ? target : nil)
            })
            var toWrite: [BatchPipeline.Recorded] = []
            toWrite.reserveCapacity(recordable.count)
            for (item, outcome) in zip(recordable, recorded) {
                switch outcome {
                case .success(let previous):
                    toWrite.append(item)
                    if !previous.isEmpty { superseded = true }
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
                    continue
                }
                if item.plan.request.force { report.recovered += 1 } else { report.issued += 1 }
                unsynced.append((item.plan.request.thing, item.entry.serial))
            }
            // The chunk's bundles reach the disk while the next ones are written; one sync at
            // a time, and a last one below before the batch reports. A jsonl chunk is appended
            // and synced here, in order, then marked.
            do {
                if let jsonl {
                    try jsonl.append(unsynced.map(\.serial))
                    try store.markWritten(unsynced)
                    unsynced = []
                } else {
                    try markSynced(wait: false)
                }
            } catch { markFailure = markFailure ?? error }
            done += rows.count
            progress?(done, requests.count + report.skipped)
        }, shouldStop: { options.failFast && !report.failures.isEmpty })
        try markSynced(wait: true)
        try markSynced(wait: true)
        if let markFailure { throw markFailure }
        if superseded {
            // Revoked with their replacements above; now on the CRL too (or on the next
            // `crl publish --if-due`, if this process dies first).
            _ = try RevocationService(keyring: provisioner.keyring).publish(authority.name)
        }
        return finish(report, started: started)
    }

    /// The serial of `thing`'s recorded certificate when the bundle at its place in `out`
    /// holds exactly that certificate (written, then killed before the batch marked it).
    /// The dir, pem and jsonl formats can be read back; the others are issued again.
    private func recordedBundleOnDisk(_ thing: String, format: BundleFormat, out: URL, jsonl: JSONLinesOutput?) throws -> SerialNumber? {
        if let jsonl {
            let lines = jsonl.written[thing] ?? []
            return try store.certificates(CertificateFilter(thing: thing, status: .active))
                .first { $0.delivery == .recorded && lines.contains($0.serial) }?.serial
        }
        let held = Set(Bundle.certificatesOnDisk(of: thing, format: format, in: out))
        guard !held.isEmpty else { return nil }
        return try store.certificates(CertificateFilter(thing: thing, status: .active))
            .first { $0.delivery == .recorded && held.contains($0.der) }?.serial
    }

    /// The file line of each planned thing, for failures found after planning.
    private var lines: [String: Int] = [:]

    private func fail(_ report: inout BatchReport, _ thing: String, _ error: any Error) {
        let text = (error as? any IoTCAError)?.description ?? "\(error)"
        report.failures.append(BatchRowError(line: lines[thing] ?? 0, thing: thing, error: text, cause: error as? any IoTCAError))
    }

    private func finish(_ report: BatchReport, started: ContinuousClock.Instant) -> BatchReport {
        var report = report
        report.failed = report.failures.count
        report.failures.sort { $0.line < $1.line }
        let elapsed = ContinuousClock.now - started
        report.seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
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
