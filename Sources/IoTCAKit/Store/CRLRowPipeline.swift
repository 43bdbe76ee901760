import Foundation

/// A CRL's entries read on the calling thread and parsed and encoded on a second one: handing
/// out a million rows' columns is SQLite's work (about half the reading), parsing them and
/// writing their DER the rest, so the two halves run on two cores. Rows cross in chunks of raw
/// column bytes, a few chunks at most in flight.
final class CRLRowPipeline<Sink: CRLEntrySink>: @unchecked Sendable {
    /// The four columns of `rowsPerChunk` rows: their bytes end to end, and where each ends.
    struct Chunk {
        var bytes: [UInt8] = []
        var ends: [Int] = []

        init(reserving rows: Int) {
            bytes.reserveCapacity(rows * 96)  // a 40-digit serial, two 23-character times, a reason
            ends.reserveCapacity(rows * CRLRowPipeline.columns)
        }
    }

    static var rowsPerChunk: Int { 4_096 }
    static var columns: Int { 4 }

    private let handoff = Handoff<Chunk>(capacity: 4)
    // Touched by the encoding thread only while it runs, then by the caller after `finish`.
    private var sink: Sink
    private var encoding: Background<Int>?

    /// `parse` turns a row's columns (serial, revoked_at, reason, invalidity_date) into an entry,
    /// its serial decoded into the buffer it is given (one buffer for every row).
    /// `expected` entries are reserved on the encoding thread, after the sink has changed hands
    /// (reserved before, its buffer would be shared and copied at the first entry).
    init(sink: Sink, expected: Int, parse: @escaping @Sendable ([UnsafeBufferPointer<UInt8>], inout [UInt8]) throws -> RevokedEntry) {
        self.sink = sink
        encoding = Background { [self] in
            self.sink.reserve(expected)
            return try encode(parse)
        }
    }

    /// Reads the rows of `sql` into the pipeline: the sink with every entry appended, and how
    /// many. The reading's error, or the encoding's (a row that does not parse), is thrown.
    func run(_ db: any SQLConnection, _ sql: String, _ arguments: [SQLValue]) throws -> (sink: Sink, count: Int) {
        // A local chunk, not a stored property: a class's property is checked for exclusive
        // access at every write, eight writes a row.
        var chunk = Chunk(reserving: Self.rowsPerChunk)
        do {
            try db.forEachTextRow(sql, arguments) { row in
                for column in 0..<Self.columns {
                    row.utf8(column) { chunk.bytes.append(contentsOf: $0) }
                    chunk.ends.append(chunk.bytes.count)
                }
                guard chunk.ends.count == Self.rowsPerChunk * Self.columns else { return }
                guard handoff.send(chunk) else { throw EncodingStopped() }
                chunk = Chunk(reserving: Self.rowsPerChunk)
            }
        } catch is EncodingStopped {
            // The encoding thread's own error is thrown by `finish`.
        } catch {
            cancel()
            throw error
        }
        if !chunk.ends.isEmpty { _ = handoff.send(chunk) }
        return try finish()
    }

    private struct EncodingStopped: Error {}

    /// The sink with every entry appended, and how many; the encoding thread's error if it had one.
    private func finish() throws -> (sink: Sink, count: Int) {
        handoff.close()
        guard let encoding else { preconditionFailure("started in init") }
        let count = try encoding.value()
        // Moved out, not copied: a copy would share the buffer with this pipeline, and the
        // caller's next write (the CRL's signature) would copy tens of megabytes.
        var finished = Sink()
        swap(&finished, &sink)
        return (finished, count)
    }

    /// Stops the encoding thread after a failure of the reading, and waits for it.
    private func cancel() {
        handoff.close()
        handoff.abandon()
        _ = try? encoding?.value()
    }

    private func encode(_ parse: ([UnsafeBufferPointer<UInt8>], inout [UInt8]) throws -> RevokedEntry) throws -> Int {
        // The sink is worked on as a local and put back at the end (see `run`'s chunk).
        var local = Sink()
        swap(&local, &sink)
        defer { swap(&local, &sink) }
        var count = 0
        var serial: [UInt8] = []
        do {
            while let chunk = handoff.receive() {
                try chunk.bytes.withUnsafeBufferPointer { bytes in
                    // Pointers into this chunk, which live no longer than this closure.
                    var columns = [UnsafeBufferPointer<UInt8>](repeating: UnsafeBufferPointer(start: nil, count: 0), count: Self.columns)
                    var start = 0
                    for row in 0..<chunk.ends.count / Self.columns {
                        for column in 0..<Self.columns {
                            let end = chunk.ends[row * Self.columns + column]
                            columns[column] = UnsafeBufferPointer(rebasing: bytes[start..<end])
                            start = end
                        }
                        local.append(try parse(columns, &serial))
                        count += 1
                    }
                }
            }
        } catch {
            handoff.abandon()
            throw error
        }
        return count
    }
}
