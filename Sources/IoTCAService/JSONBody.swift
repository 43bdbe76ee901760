import Foundation
import HTTPTypes
import Hummingbird
import IoTCAKit
import NIOCore

/// Request and response bodies of the API: JSON both ways, sizes bounded.
enum JSONBody {
    /// Decodes the body, at most `limit` bytes of `application/json` (or no content type).
    /// - Throws: `Problem` 413 (too large), 415 (another media type), 400 (not that JSON).
    /// - Parameter emptyIsObject: an empty body reads as `{}` (for routes whose every field is
    ///   optional, as a revocation's or a CRL publication's).
    static func decode<T: Decodable>(_ type: T.Type, from request: Request, limit: Int, emptyIsObject: Bool = false) async throws -> T {
        if let contentType = request.headers[.contentType],
           contentType.split(separator: ";").first.map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }) != "application/json" {
            throw Problem(.unsupportedMediaType, detail: "send the body as application/json, not \(contentType)")
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw Problem(.tooLarge, detail: "the request body is larger than \(limit) bytes")
        }
        let bytes = buffer.readableBytes == 0 && emptyIsObject ? Data("{}".utf8) : Data(buffer.readableBytesView)
        do {
            return try JSONDecoder().decode(T.self, from: bytes)
        } catch let error as DecodingError {
            throw Problem(.badRequest, detail: "the JSON body does not fit: \(describe(error))")
        }
    }

    static func response<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        var body = ByteBuffer(bytes: try JSONEncoder.iotcaCompact.encode(value))
        body.writeInteger(UInt8(ascii: "\n"))
        return Response(status: status, headers: headers, body: .init(byteBuffer: body))
    }

    /// A body already written as JSON.
    static func response(json: [UInt8], status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        var body = ByteBuffer()
        body.reserveCapacity(json.count + 1)
        body.writeBytes(json)
        body.writeInteger(UInt8(ascii: "\n"))
        return Response(status: status, headers: headers, body: .init(byteBuffer: body))
    }

    static func describe(_ error: DecodingError) -> String {
        switch error {
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .keyNotFound(_, let context), .dataCorrupted(let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return (path.isEmpty ? "" : "\(path): ") + context.debugDescription
        @unknown default:
            return "\(error)"
        }
    }
}
