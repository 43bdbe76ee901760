import Foundation

/// Moves a batch's rows through three stages: plan, key and signature (any worker), recorded in
/// the store (the calling thread, one transaction per chunk), bundle written (any worker).
///
/// One set of worker threads serves both parallel stages, taking a few rows at a time: bundles
/// of recorded chunks first, then keys for the chunks ahead, at most `lookahead` chunks past
/// the last recorded one (memory stays bounded). So every core has work while the store
/// commits; with a parallel loop per stage, one stage's tail left cores idle while the other
/// waited (1.7 of 2 cores busy on a 10,000-row batch, against 1.8 here).
/// A chunk's bundles are written only after its transaction has committed, so a batch killed
/// at any moment leaves only bundles whose rows exist.
final class BatchPipeline: @unchecked Sendable {
    /// A row planned, keyed and signed, or why not.
    typealias Signed = Result<(plan: Provisioner.Plan, issued: IssuedCertificate, key: PrivateKeyMaterial?, algorithm: KeyAlgorithm), any Error>
    /// Plans (unless planned before), keys and signs row `index` with the worker's generator.
    typealias Signer = (_ index: Int, _ generator: KeyGenerator, _ now: Date) -> Signed

    /// A row on its way to the store and its bundle. A class: it passes through several arrays
    /// and closures, and copying the entry's and key's fields each time showed in profiles.
    final class Recorded: @unchecked Sendable {
        let plan: Provisioner.Plan
        let entry: CertificateEntry
        let key: PrivateKeyMaterial?

        init(plan: Provisioner.Plan, entry: CertificateEntry, key: PrivateKeyMaterial?) {
            self.plan = plan
            self.entry = entry
            self.key = key
        }
    }

    /// What the recorder made of a signed chunk (rows `rows`, `signed` in their order): the rows
    /// to write, in any order.
    typealias Recorder = (_ rows: Range<Int>, _ signed: [Signed], _ now: Date) throws -> [Recorded]
    /// Told on the calling thread, in chunk order, once a chunk's bundles are all written:
    /// each row with the error that kept its bundle off the disk, if any.
    typealias WrittenHandler = (_ rows: [(Recorded, (any Error)?)]) -> Void

    private final class Chunk {
        let rows: Range<Int>
        /// When its signing starts, from the store's clock.
        var now = Date.distantPast
        /// Allocated when signing starts and released once the bundles are written, so a long
        /// batch holds keys and certificates for the chunks in flight only.
        var signed = Slots<Signed>(count: 0)
        var nextSign = 0
        var signedCount = 0
        var recorded = false
        var toWrite: [Recorded] = []
        var written = Slots<(any Error)?>(count: 0)
        var nextWrite = 0
        var writtenCount = 0

        init(_ rows: Range<Int>) {
            self.rows = rows
        }

        var fullySigned: Bool { signedCount == rows.count }
        var fullyWritten: Bool { recorded && writtenCount == toWrite.count }
    }

    private enum Task {
        case sign(Chunk, Range<Int>)
        case write(Chunk, Range<Int>)
    }

    private let condition = NSCondition()
    private var chunks: [Chunk] = []
    private var recordedCount = 0
    /// The first recorded chunk that may still have bundles to hand out.
    private var writeCursor = 0
    private var stopSigning = false
    private var finished = false
    private var liveWorkers = 0
    private let lookahead = 4
    /// Rows per claim: enough to keep the lock quiet, few enough to share a chunk's tail.
    private let grain = 4

    private let generators: [KeyGenerator]
    private let sign: Signer
    /// Writes one row's bundle; told which worker asks, so each can stage in its own folder.
    private let writeBundle: (Recorded, _ worker: Int) throws -> Void

    private let clock: WallClock

    init(jobs: Int, clock: WallClock, sign: @escaping Signer, writeBundle: @escaping (Recorded, _ worker: Int) throws -> Void) {
        generators = (0..<max(1, jobs)).map { _ in KeyGenerator() }
        self.clock = clock
        self.sign = sign
        self.writeBundle = writeBundle
    }

    /// Runs rows 0..<count through the stages. `shouldStop` is asked before each chunk is recorded
    /// (fail-fast): once it says yes, no further chunk is recorded, while the recorded ones are
    /// still written. An error from `record` ends the batch once the chunks recorded before it
    /// are written.
    func run(count: Int, chunkSize: Int, record: Recorder, written: WrittenHandler, shouldStop: () -> Bool) throws {
        let size = max(1, chunkSize)
        chunks = stride(from: 0, to: count, by: size).map { Chunk($0..<min(count, $0 + size)) }
        guard !chunks.isEmpty else { return }
        liveWorkers = generators.count
        for worker in generators.indices {
            let thread = Thread { [self] in work(worker) }
            thread.stackSize = 1 << 20
            thread.start()
        }
        var reported = 0
        /// Hands finished chunks' rows to `written`, outside the lock.
        func report(_ done: [[(Recorded, (any Error)?)]]) {
            for rows in done { written(rows) }
        }
        /// Under the lock: the rows of the chunks whose bundles are all written and not yet
        /// reported; those chunks let go of their keys and certificates.
        func takeWritten() -> [[(Recorded, (any Error)?)]] {
            var done: [[(Recorded, (any Error)?)]] = []
            while reported < recordedCount && chunks[reported].fullyWritten {
                let chunk = chunks[reported]
                done.append(chunk.toWrite.indices.map { (chunk.toWrite[$0], chunk.written[$0] ?? nil) })
                chunk.toWrite = []
                chunk.written = Slots(count: 0)
                chunk.signed = Slots(count: 0)
                reported += 1
            }
            return done
        }

        var failure: (any Error)?
        for chunk in chunks {
            condition.lock()
            while true {
                let done = takeWritten()
                if !done.isEmpty {
                    condition.unlock()
                    report(done)
                    condition.lock()
                } else if chunk.fullySigned {
                    break
                } else {
                    condition.wait()
                }
            }
            condition.unlock()
            if shouldStop() { break }
            let signed = (0..<chunk.rows.count).map { chunk.signed[$0] ?? .failure(SigningError.signatureFailed("no signature was made for this row")) }
            do {
                let toWrite = try record(chunk.rows, signed, chunk.now)
                condition.lock()
                chunk.toWrite = toWrite
                chunk.written = Slots(count: toWrite.count)
                chunk.recorded = true
                recordedCount += 1
                condition.broadcast()
                condition.unlock()
            } catch {
                failure = error
                break
            }
        }
        // No more signing: write what is recorded, then let the workers go.
        condition.lock()
        stopSigning = true
        condition.broadcast()
        while reported < recordedCount {
            let done = takeWritten()
            if done.isEmpty {
                condition.wait()
            } else {
                condition.unlock()
                report(done)
                condition.lock()
            }
        }
        finished = true
        condition.broadcast()
        while liveWorkers > 0 { condition.wait() }
        condition.unlock()
        if let failure { throw failure }
    }

    private func work(_ worker: Int) {
        let generator = generators[worker]
        condition.lock()
        while !finished {
            guard let task = claim() else {
                condition.wait()
                continue
            }
            condition.unlock()
            switch task {
            case .sign(let chunk, let rows):
                for row in rows {
                    chunk.signed[row] = sign(chunk.rows.lowerBound + row, generator, chunk.now)
                }
            case .write(let chunk, let rows):
                for row in rows {
                    do {
                        try writeBundle(chunk.toWrite[row], worker)
                        chunk.written[row] = .some(nil)
                    } catch {
                        chunk.written[row] = .some(error)
                    }
                }
            }
            condition.lock()
            switch task {
            case .sign(let chunk, let rows):
                chunk.signedCount += rows.count
                if chunk.fullySigned { condition.broadcast() }
            case .write(let chunk, let rows):
                chunk.writtenCount += rows.count
                if chunk.fullyWritten { condition.broadcast() }
            }
        }
        liveWorkers -= 1
        condition.broadcast()
        condition.unlock()
    }

    /// Under the lock: the next rows to work on, bundles before keys. Recorded chunks are
    /// handed out in order, so a cursor skips those whose rows are all taken.
    private func claim() -> Task? {
        while writeCursor < recordedCount && chunks[writeCursor].nextWrite >= chunks[writeCursor].toWrite.count {
            writeCursor += 1
        }
        if writeCursor < recordedCount {
            let chunk = chunks[writeCursor]
            let rows = chunk.nextWrite..<min(chunk.toWrite.count, chunk.nextWrite + grain)
            chunk.nextWrite = rows.upperBound
            return .write(chunk, rows)
        }
        guard !stopSigning else { return nil }
        for chunk in chunks[recordedCount..<min(chunks.count, recordedCount + lookahead)] where chunk.nextSign < chunk.rows.count {
            if chunk.nextSign == 0 {
                chunk.now = clock.now()
                chunk.signed = Slots(count: chunk.rows.count)
            }
            let rows = chunk.nextSign..<min(chunk.rows.count, chunk.nextSign + grain)
            chunk.nextSign = rows.upperBound
            return .sign(chunk, rows)
        }
        return nil
    }
}

/// Fixed-size storage that worker threads fill at distinct indices without copy-on-write
/// (an Array's element setter may copy its buffer, a race when two threads set elements).
final class Slots<Element>: @unchecked Sendable {
    private let base: UnsafeMutablePointer<Element?>
    let count: Int

    init(count: Int) {
        self.count = count
        base = .allocate(capacity: max(1, count))
        base.initialize(repeating: nil, count: count)
    }

    deinit {
        base.deinitialize(count: count)
        base.deallocate()
    }

    subscript(index: Int) -> Element? {
        get { base[index] }
        set { base[index] = newValue }
    }
}
