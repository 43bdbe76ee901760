import Foundation
import Hummingbird
import IoTCAKit
import NIOCore

/// `GET /v1/audit` for a fleet: a worker writes the report (`AuditStream`, JSON) into an
/// unlinked temporary file (0600) as the store is read, and the answer is sent from it 64 KiB at
/// a time. Neither the fleet nor the report is ever in memory, and the snapshot is read at the
/// pace of the store, not of the client.
enum AuditResponse {
    static func make(workers: Workers, client: ClientIdentity, since: Date?) async throws -> Response {
        let file = try SpoolFile()
        _ = try await workers.run(client: client.auditName) { authority in
            try authority.writeAudit(.json, since: since, caller: client.caller, to: StreamWriter(descriptor: file.descriptor, name: "the audit's spool file"))
        }
        let size = Int(lseek(file.descriptor, 0, SEEK_END))
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: .ok, headers: headers, body: ResponseBody(contentLength: size) { writer in
            var offset = 0
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            while offset < size {
                let read = chunk.withUnsafeMutableBytes { pread(file.descriptor, $0.baseAddress, $0.count, off_t(offset)) }
                // The status line is out: a failure now can only cut the answer short.
                guard read > 0 else { throw SpoolFile.ReadFailed(errno: errno) }
                try await writer.write(ByteBuffer(bytes: chunk[0..<read]))
                offset += read
            }
            try await writer.finish(nil)
        })
    }
}

/// A temporary file no other process can open (made 0600, unlinked at once), closed when the
/// last reference goes: also when a client leaves before its answer is sent.
final class SpoolFile: Sendable {
    let descriptor: Int32

    struct ReadFailed: Error { let errno: Int32 }

    init() throws(Problem) {
        var template = Array(FileManager.default.temporaryDirectory.appendingPathComponent("iotca-spool-XXXXXX").path.utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { $0.baseAddress.map { mkstemp($0) } ?? -1 }
        guard descriptor >= 0 else { throw Problem(.unavailable, detail: "cannot make a temporary file for the answer: \(String(cString: strerror(errno)))") }
        template.withUnsafeBufferPointer { if let path = $0.baseAddress { _ = unlink(path) } }
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }
}
