import Foundation
import Synchronization

/// A TCP relay between a store and its PostgreSQL server on 127.0.0.1: a database in another
/// rack, on one machine (each direction's chunks held back by `hold`, which a benchmark gives;
/// tests give none: they never wait on time), and a counter of the
/// round trips the store makes, read from the wire rather than from iotca's own code: every
/// Sync (the end of an extended-protocol query) and every simple Query a client sends is one
/// request the server must answer before the client goes on.
/// Plain connections only (`sslmode=disable`, as `PostgresServer.url` gives).
public final class PostgresRelay: @unchecked Sendable {
    public let port: Int
    private let target: Int
    private let hold: (@Sendable () -> Void)?
    private let listener: Int32
    private let counted = Atomic<Int>(0)
    private let sockets = Mutex<[Int32]>([])
    private let stopped = Atomic<Bool>(false)

    /// Round trips sent through the relay so far, over every connection.
    public var roundTrips: Int { counted.load(ordering: .relaxed) }

    /// Relays 127.0.0.1:`port` (a free one) to 127.0.0.1:`target`; `hold` runs before each
    /// chunk is passed on, in either direction (a benchmark's added latency).
    public init(to target: Int, hold: (@Sendable () -> Void)? = nil) throws {
        self.target = target
        self.hold = hold
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard listener >= 0 else { throw RelayError("socket: errno \(errno)") }
        var yes: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = Self.loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(listener, 64) == 0 else {
            close(listener)
            throw RelayError("bind/listen: errno \(errno)")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        self.listener = listener
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    deinit { stop() }

    /// Closes the listener and every relayed connection.
    public func stop() {
        guard !stopped.exchange(true, ordering: .relaxed) else { return }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        let open = sockets.withLock { $0 }
        for socket in open { shutdown(socket, Int32(SHUT_RDWR)) }
        for socket in open { close(socket) }
    }

    /// `url` (a `PostgresServer.url`) pointed at the relay instead of the server.
    public func url(_ url: String) -> String {
        url.replacingOccurrences(of: "127.0.0.1:\(target)/", with: "127.0.0.1:\(port)/")
    }

    public struct RelayError: Error, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    private static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    private func acceptLoop() {
        while !stopped.load(ordering: .relaxed) {
            let client = accept(listener, nil, nil)
            guard client >= 0 else { if errno == EINTR { continue } else { return } }
            let server = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = Self.loopback(port: UInt16(target))
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(server, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard connected == 0 else { close(client); close(server); continue }
            for socket in [client, server] {
                var yes: Int32 = 1
                setsockopt(socket, Int32(IPPROTO_TCP), TCP_NODELAY, &yes, socklen_t(MemoryLayout<Int32>.size))
            }
            sockets.withLock { $0 += [client, server] }
            Thread.detachNewThread { [self] in pump(from: client, to: server, counter: FrontendMessages()) }
            Thread.detachNewThread { [self] in pump(from: server, to: client, counter: nil) }
        }
    }

    /// Copies one direction until either side closes; `hold` before each chunk (the protocol is
    /// request and answer, so a chunk's wait is the link's latency, not a queue).
    private func pump(from source: Int32, to destination: Int32, counter: FrontendMessages?) {
        var counter = counter
        var buffer = [UInt8](repeating: 0, count: 65_536)
        defer {
            shutdown(destination, Int32(SHUT_WR))
            shutdown(source, Int32(SHUT_RD))
        }
        while true {
            let count = buffer.withUnsafeMutableBytes { read(source, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return }
            if let trips = counter?.add(buffer[0..<count]), trips > 0 { counted.add(trips, ordering: .relaxed) }
            hold?()
            var sent = 0
            while sent < count {
                let written = buffer[sent..<count].withUnsafeBytes { write(destination, $0.baseAddress, $0.count) }
                if written < 0 && errno == EINTR { continue }
                guard written > 0 else { return }
                sent += written
            }
        }
    }

    /// The frontend's message stream, parsed across chunk boundaries: a startup packet (no
    /// type byte) first, then type byte and length. Counts Sync ('S') and Query ('Q').
    struct FrontendMessages {
        private var started = false
        private var header: [UInt8] = []
        private var remaining = 0

        mutating func add(_ bytes: ArraySlice<UInt8>) -> Int {
            var trips = 0
            var index = bytes.startIndex
            while index < bytes.endIndex {
                if remaining > 0 {
                    let skipped = min(remaining, bytes.endIndex - index)
                    remaining -= skipped
                    index += skipped
                    continue
                }
                header.append(bytes[index])
                index += 1
                let headerSize = started ? 5 : 4
                guard header.count == headerSize else { continue }
                let length = header.suffix(4).reduce(0) { $0 << 8 | Int($1) }
                if started {
                    if header[0] == UInt8(ascii: "S") || header[0] == UInt8(ascii: "Q") { trips += 1 }
                    remaining = length - 4
                } else {
                    // The startup packet (or an SSLRequest, after which a plain startup follows).
                    remaining = length - 4
                    started = length != 8
                }
                header = []
            }
            return trips
        }
    }
}
