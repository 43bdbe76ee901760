import Foundation

/// Buffered writes to a file descriptor (standard output by default): a fleet-wide listing
/// goes out as it is read, 64 KiB at a time, never gathered first.
public final class StreamWriter {
    private let descriptor: Int32
    private let name: String
    private var buffer: [UInt8] = []
    private static let capacity = 1 << 16

    public init(descriptor: Int32 = STDOUT_FILENO, name: String = "standard output") {
        self.descriptor = descriptor
        self.name = name
        buffer.reserveCapacity(Self.capacity)
    }

    deinit { try? flush() }

    public func write(_ text: String) throws(OutputError) {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= Self.capacity { try flush() }
    }

    public func write(_ bytes: some Collection<UInt8>) throws(OutputError) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= Self.capacity { try flush() }
    }

    /// - Throws: `OutputError.writeFailed`, e.g. a reader that went away (`| head`).
    public func flush() throws(OutputError) {
        var offset = 0
        defer { buffer.removeAll(keepingCapacity: true) }
        while offset < buffer.count {
            let written = buffer.withUnsafeBytes { raw in raw.baseAddress.map { Foundation.write(descriptor, $0 + offset, raw.count - offset) } ?? 0 }
            if written < 0 {
                if errno == EINTR { continue }
                throw .writeFailed(path: name, detail: String(cString: strerror(errno)))
            }
            offset += written
        }
    }
}
