import Foundation
import HTTPTypes
import Hummingbird
import IoTCAKit
import NIOCore

/// OCSP on the public listener (RFC 6960 appendix A, RFC 5019): `POST /ocsp` with a DER
/// request, and `GET /ocsp/BASE64` with the request base64- and URL-encoded in the path, which
/// HTTP caches can keep. Every answer is an `application/ocsp-response`, refusals included
/// (malformedRequest, unauthorized): that is what OCSP clients read.
struct OCSPRoutes {
    let responder: OCSPResponder
    /// Where answers are made on a shared store (`Workers.read`): each reads the database.
    let workers: Workers
    let sharedStore: Bool
    let metrics: ServiceMetrics
    /// The path of the store's public URL (`/pki` for `http://host/pki`), where /ocsp is served too.
    let prefix: String?

    /// Requests are about a hundred bytes; a few CertIDs and a nonce stay far below this.
    static let bodyLimit = 16 * 1024

    /// Where /ocsp is served: the root, and the public URL's path when it has one.
    var bases: [String] {
        guard let prefix, !prefix.isEmpty else { return [""] }
        return ["", prefix]
    }

    func add(to router: Router<PublicContext>) {
        for base in bases {
            router.post(RouterPath(base + "/ocsp")) { request, _ in try await post(request) }
            router.get(RouterPath(base + "/ocsp/**")) { request, _ in try await get(request, base: base) }
        }
    }

    private func post(_ request: Request) async throws -> Response {
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: Self.bodyLimit)
        } catch is NIOTooManyBytesError {
            throw Problem(.tooLarge, detail: "an OCSP request is larger than \(Self.bodyLimit) bytes")
        }
        return try await respond(Array(body.readableBytesView))
    }

    private func get(_ request: Request, base: String) async throws -> Response {
        // The path as sent: the base64 may hold '/', which a router would split on.
        try await respond(Self.requestDER(path: request.uri.path, base: base))
    }

    /// The DER request of `GET BASE/ocsp/ENCODED`: empty (malformedRequest) when it does not decode.
    static func requestDER(path: some StringProtocol, base: String) -> [UInt8] {
        let encoded = path.dropFirst(base.count + "/ocsp/".count)
        guard encoded.utf8.count <= bodyLimit * 2, let text = String(encoded).removingPercentEncoding,
              let der = Data(base64Encoded: padded(text)) else { return [] }
        return Array(der)
    }

    /// Base64 as some clients send it in URLs: without its '=' padding.
    static func padded(_ text: String) -> String {
        let remainder = text.utf8.count % 4
        return remainder == 0 ? text : text + String(repeating: "=", count: 4 - remainder)
    }

    private func respond(_ der: [UInt8]) async throws -> Response {
        let responder = self.responder
        let answer: OCSPResponder.Answer
        do {
            answer = try await workers.read(shared: sharedStore, publicListener: true) { responder.answer(der) }
        } catch {
            // Only when the server is stopping: still an OCSP answer, as clients read.
            answer = .stopping
        }
        counted(answer)
        return Response(status: .ok, headers: Self.headers(for: answer), body: .init(byteBuffer: ByteBuffer(bytes: answer.der)))
    }

    func counted(_ answer: OCSPResponder.Answer) {
        metrics.ocspAnswered(answer.refusal == nil ? "successful" : String(answer.refusal?.prefix { $0 != ":" } ?? "refused"))
    }

    static func headers(for answer: OCSPResponder.Answer) -> HTTPFields {
        var headers: HTTPFields = [.contentType: "application/ocsp-response"]
        if let thisUpdate = answer.thisUpdate, let nextUpdate = answer.nextUpdate, let digest = answer.digest {
            // RFC 5019 6.2: caches keep the answer until its nextUpdate, not longer.
            let maxAge = max(0, Int(nextUpdate.timeIntervalSinceNow.rounded(.down)))
            headers[.cacheControl] = "max-age=\(maxAge), public, no-transform, must-revalidate"
            headers[.lastModified] = HTTPDate.format(thisUpdate)
            headers[.expires] = HTTPDate.format(nextUpdate)
            headers[.eTag] = "\"" + digest + "\""
        } else {
            headers[.cacheControl] = "no-cache"
        }
        return headers
    }
}
