import Foundation
@testable import IoTCAKit
import Testing
import TestSupport

/// The pipeline's stops: a store error ends the batch once the chunks recorded before it are
/// written, and fail-fast records no chunk after it says stop; neither leaves a worker behind.
@Suite struct BatchPipelineTests {
    struct StoreFailed: Error {}

    func plans(_ count: Int, fixture: TemporaryStore) throws -> [Provisioner.Plan] {
        let authority = try fixture.store.authority(named: "issuing")
        let signer = try fixture.keyring.signer(for: authority)
        let chain = try fixture.store.chain(of: authority)
        let template = try fixture.provisioner.template("device")
        return try (0..<count).map {
            try Provisioner.plan(IssueRequest(thing: "p-\($0)"), template: template, signer: signer, authority: authority,
                                 chain: chain, organization: "Test Fleet", format: .dir)
        }
    }

    func pipeline(_ work: [Provisioner.Plan], jobs: Int, write: @escaping (BatchPipeline.Recorded, Int) throws -> Void) -> BatchPipeline {
        BatchPipeline(jobs: jobs, clock: .system, sign: { index, generator, now in
            BatchPipeline.Signed {
                let (issued, key, algorithm) = try Provisioner.keyAndCertificate(work[index], generator: generator, now: now)
                return (work[index], issued, key, algorithm)
            }
        }, writeBundle: write)
    }

    func recorded(_ signed: [BatchPipeline.Signed], _ now: Date) throws -> [BatchPipeline.Recorded] {
        try signed.map { result in
            let row = try result.get()
            return .init(plan: row.plan, entry: Provisioner.entry(row.plan, issued: row.issued, keyAlgorithm: row.algorithm, now: now, target: "dir:/bundles"), key: row.key)
        }
    }

    @Test func aStoreErrorEndsTheBatchAfterTheRecordedChunksAreWritten() throws {
        let fixture = try TemporaryStore(encrypted: false)
        let work = try plans(60, fixture: fixture)
        let lock = NSLock()
        var bundles: Set<String> = []
        let pipeline = pipeline(work, jobs: 2) { row, _ in
            lock.lock()
            bundles.insert(row.plan.request.thing)
            lock.unlock()
        }
        var chunksRecorded = 0
        var reported: [String] = []
        #expect(throws: StoreFailed.self) {
            try pipeline.run(count: work.count, chunkSize: 10, record: { rows, signed, now in
                chunksRecorded += 1
                #expect(rows == (chunksRecorded - 1) * 10..<chunksRecorded * 10)
                if chunksRecorded == 3 { throw StoreFailed() }
                return try recorded(signed, now)
            }, written: { rows in
                reported += rows.map { row, error in error == nil ? row.plan.request.thing : "failed" }
            }, shouldStop: { false })
        }
        #expect(chunksRecorded == 3)
        #expect(reported == (0..<20).map { "p-\($0)" })
        #expect(bundles == Set(reported))
    }

    @Test func failFastRecordsNothingAfterItSaysStop() throws {
        let fixture = try TemporaryStore(encrypted: false)
        let work = try plans(60, fixture: fixture)
        let pipeline = pipeline(work, jobs: 3) { _, _ in }
        var chunksRecorded = 0
        var written = 0
        try pipeline.run(count: work.count, chunkSize: 7, record: { _, signed, now in
            chunksRecorded += 1
            return try recorded(signed, now)
        }, written: { rows in written += rows.count }, shouldStop: { chunksRecorded == 2 })
        #expect(chunksRecorded == 2)
        #expect(written == 14)
    }
}
