import Foundation
import IoTCAKit
import SwiftASN1
import X509

/// `issue` and `batch` with `--server`: the server signs and records, this machine writes the
/// same bundles the local commands write, then confirms each delivery. The guarantees of the
/// local batch hold: a bundle is written only after its certificate is recorded; a killed run
/// re-run into the same output recovers what was recorded but never written (the server
/// supersedes the unwritten certificate), confirms what was written but not confirmed, and
/// skips everything else; another output or format never revokes anything.
public struct RemoteProvisioner: Sendable {
    public let client: APIClient

    public init(client: APIClient) {
        self.client = client
    }

    /// One certificate and its bundle, like `CertificateAuthority.issue`.
    /// - Throws: `OutputError.exists` before asking the server; the server's refusals as
    ///   `ServiceError.refused`; `BundleNotWritten` when recorded but not written.
    public func issue(_ request: IssueRequest, into out: URL, format: BundleFormat = .dir,
                      bundlePassphrase: Passphrase? = nil) async throws -> IssueResult {
        try format.requirePassphrase(bundlePassphrase)
        try CertificationDeclaration.check(request.certificationDeclaration, format: format)
        if !(request.renew || request.force), let location = IoTCAKit.Bundle.location(of: request.thing, format: format, in: out),
           FileManager.default.fileExists(atPath: location.path) {
            throw OutputError.exists(path: location.path)
        }
        var call = Self.call(request)
        call.deliveryTarget = DeliveryTarget.make(format: format, out: out)
        let issued = try await client.issue(call)
        let written = try Self.write(issued, thing: request.thing, csr: request.csr, format: format, out: out,
                                     replace: request.renew || request.force, passphrase: bundlePassphrase, durable: true,
                                     certificationDeclaration: request.certificationDeclaration)
        let superseded = try await client.delivered(issued.certificate.serial.hex, thing: request.thing, supersede: request.supersede)
        var entry = issued.certificate
        entry.delivery = .written
        return IssueResult(entry: entry, bundle: written.bundle, location: written.location,
                           superseded: superseded.compactMap { SerialNumber(hex: $0) })
    }

    /// Every row of a batch file, `jobs` requests in flight.
    /// - Throws: what stops the whole batch (the file, the output folder); row failures are
    ///   in the report, as with a local batch.
    public func batch(_ file: URL, into out: URL, options: BatchOptions, jobs: Int,
                      progress: (@Sendable (Int, Int) -> Void)? = nil) async throws -> BatchReport {
        let started = Date()
        let (rows, errors) = try BatchFile.read(file)
        var report = BatchReport()
        report.total = rows.count + errors.count
        report.failures = errors
        report.failed = errors.count
        if options.failFast && !errors.isEmpty { return Self.finish(report, started: started) }
        // jsonl: one file (or standard output), each answer's line appended and synced before
        // its delivery is confirmed; otherwise a folder.
        try CertificationDeclaration.check(options.certificationDeclaration, format: options.format)
        let jsonl = options.format == .jsonl ? try JSONLinesOutput(out) : nil
        let target = DeliveryTarget.make(format: options.format, out: out)
        // Standard output is read back by nobody: no folder, no lock (a re-run issues again
        // what was not confirmed).
        var lock: Int32 = -1
        if out != JSONLinesOutput.standardOutput {
            let folder = jsonl == nil ? out : out.deletingLastPathComponent()
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            lock = try Self.lock(folder, format: options.format, name: jsonl == nil ? nil : out.lastPathComponent)
        }
        defer { if lock >= 0 { close(lock) } }

        /// `stopped`: the server went away, or its store did (its database down): no row's
        /// fault, and every row after it would fail the same way.
        enum Outcome: Sendable { case issued, recovered, skipped, failed(BatchRowError), stopped(ServiceError) }
        let work: @Sendable (BatchRow) async -> Outcome = { row in
            do {
                let template = row.template ?? options.template
                if template != options.template && !options.allowedTemplates.contains(template) {
                    throw PolicyError.templateNotAllowed(template, batchTemplate: options.template)
                }
                // Written by an earlier run that died before confirming: confirm, keep.
                if let serial = jsonl.map({ $0.written[row.thing]?.last }) ?? Self.serialOnDisk(row.thing, format: options.format, out: out) {
                    do {
                        _ = try await client.delivered(serial.hex, thing: row.thing, supersede: false)
                        return .skipped
                    } catch ServiceError.refused(let problem) where problem.status == 404 {
                        // Not this server's certificate: fall through and let the server decide.
                    }
                }
                var call = APIClient.IssueCall(thing: row.thing)
                call.template = template
                call.ca = options.authority
                call.attributes = row.attributes.isEmpty ? nil : row.attributes
                let csr = try row.csr.map { try RequestFile.read($0, limit: CSRCheck.maximumSize, within: file.deletingLastPathComponent()) }
                call.csr = csr.map(Self.pem(ofRequest:))
                call.deliveryTarget = target
                call.recover = true
                let issued: APIClient.Issued
                do {
                    issued = try await client.issue(call)
                } catch ServiceError.refused(let problem) where problem.name == .conflict {
                    return .skipped
                }
                let (bundle, _) = try Self.write(issued, thing: row.thing, csr: csr, format: jsonl == nil ? options.format : .json,
                                                 out: out, replace: true, passphrase: options.bundlePassphrase, durable: true,
                                                 certificationDeclaration: options.certificationDeclaration)
                if let jsonl {
                    do {
                        try jsonl.append(bundle, serial: issued.certificate.serial)
                    } catch let error as OutputError {
                        throw BundleNotWritten(serial: issued.certificate.serial.hex, thing: row.thing, cause: error)
                    }
                }
                _ = try await client.delivered(issued.certificate.serial.hex, thing: row.thing, supersede: false)
                return issued.superseded.isEmpty ? .issued : .recovered
            } catch {
                if let lost = error as? ServiceError, lost.stopsABatch { return .stopped(lost) }
                let cause = error as? any IoTCAError
                return .failed(BatchRowError(line: row.line, thing: row.thing, error: cause?.description ?? "\(error)", cause: cause))
            }
        }
        var done = 0
        var next = 0
        var lost: ServiceError?
        let inFlight = max(1, jobs)
        await withTaskGroup(of: Outcome.self) { group in
            func start() {
                guard next < rows.count else { return }
                let row = rows[next]
                next += 1
                group.addTask { await work(row) }
            }
            for _ in 0..<min(inFlight, rows.count) { start() }
            while let outcome = await group.next() {
                switch outcome {
                case .issued: report.issued += 1
                case .recovered: report.recovered += 1
                case .skipped: report.skipped += 1
                case .failed(let failure):
                    report.failed += 1
                    report.failures.append(failure)
                case .stopped(let error):
                    lost = lost ?? error
                }
                done += 1
                progress?(done, rows.count)
                if !(options.failFast && report.failed > 0) && lost == nil { start() }
            }
        }
        // The server or its store went away: what was done is recorded there and on disk; a
        // re-run finishes.
        if let lost { throw lost }
        report.failures.sort { $0.line < $1.line }
        return Self.finish(report, started: started)
    }

    private static func finish(_ report: BatchReport, started: Date) -> BatchReport {
        var report = report
        report.seconds = Date().timeIntervalSince(started)
        return report
    }

    static func call(_ request: IssueRequest) -> APIClient.IssueCall {
        var call = APIClient.IssueCall(thing: request.thing)
        call.template = request.template
        call.ca = request.authority
        call.csr = request.csr.map(pem(ofRequest:))
        call.validity = request.validity?.description
        call.subjectAltNames = request.subjectAltNames.isEmpty ? nil : request.subjectAltNames.map(\.description)
        call.attributes = request.attributes.isEmpty ? nil : request.attributes
        call.renew = request.renew ? true : nil
        return call
    }

    /// A CSR as PEM (the API's form), whether it came as PEM or DER.
    static func pem(ofRequest bytes: [UInt8]) -> String {
        let text = String(decoding: bytes, as: UTF8.self)
        return text.contains("-----BEGIN") ? text : PEMDocument(type: "CERTIFICATE REQUEST", derBytes: bytes).pemString
    }

    /// The answer as a bundle, written like a local one (`json` is printed by the caller).
    /// The answer is checked first (`Bundle.checkAnswer`): for `thing`, and certifying the
    /// generated key or the request's (`csr`).
    static func write(_ issued: APIClient.Issued, thing: String, csr: [UInt8]?, format: BundleFormat, out: URL, replace: Bool,
                      passphrase: Passphrase?, durable: Bool, certificationDeclaration: [UInt8]? = nil) throws -> (bundle: IoTCAKit.Bundle, location: URL?) {
        var bundle: IoTCAKit.Bundle
        do { bundle = try IoTCAKit.Bundle(jsonForm: issued.bundle) } catch { throw AnswerRejected("its bundle does not read: \(error)") }
        bundle.certificationDeclaration = certificationDeclaration
        if format == .matter {
            // The server answered for a template; the matter files must hold a DAC all the same.
            do { try MatterProfileCheck.check(bundle.certificateDER, as: .dac) } catch { throw AnswerRejected("the matter format holds a DAC: \(error)") }
            bundle.manifest.files = bundle.matterFileNames
        }
        guard issued.certificate.thing == thing else { throw AnswerRejected("its record is for another thing") }
        try bundle.checkAnswer(for: thing, serial: issued.certificate.serial, csrKey: try csr.map { try CSRCheck.publicKey(fromRequest: $0) })
        do {
            return (bundle, try bundle.write(format, into: out, replace: replace, passphrase: passphrase, durable: durable))
        } catch {
            throw BundleNotWritten(serial: issued.certificate.serial.hex, thing: issued.bundle.thing, cause: error)
        }
    }

    /// The serial of the certificate in `thing`'s bundle under `out` (dir and pem can be read back).
    static func serialOnDisk(_ thing: String, format: BundleFormat, out: URL) -> SerialNumber? {
        guard let der = IoTCAKit.Bundle.certificatesOnDisk(of: thing, format: format, in: out).first,
              let certificate = try? Certificate(derEncoded: der) else { return nil }
        return SerialNumber(bytes: Array(certificate.serialNumber.bytes))
    }

    /// One batch per output folder and format on this machine at a time (an flock on a dot
    /// file there, gone with the process): recovery is safe only when no other run may be
    /// between the server's answer and the disk.
    static func lock(_ out: URL, format: BundleFormat, name: String? = nil) throws -> Int32 {
        let path = out.appendingPathComponent(".iotca-batch-\(format.rawValue)\(name.map { "-" + $0 } ?? "").lock").path
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw OutputError.writeFailed(path: path, detail: String(cString: strerror(errno))) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            throw BatchBusy(out: out.path)
        }
        return descriptor
    }
}
