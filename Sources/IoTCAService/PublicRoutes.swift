import Foundation
import HTTPTypes
import Hummingbird
import IoTCAKit
import NIOCore

/// The plain-HTTP listener: what certificates point at (`NAME.crl`, `NAME.crl.pem`, `NAME.crt`
/// at the `--public-url` layout, also under its path), `/healthz` and `/metrics`. No TLS on
/// purpose: relying parties fetch revocation data without a TLS loop (RFC 5280 §4.2.1.13).
struct PublicRoutes {
    let workers: Workers
    let metrics: ServiceMetrics
    let clock: WallClock
    /// The path of the store's public URL (`/pki` for `http://host/pki`), where files are served too.
    let prefix: String?

    func add(to router: Router<PublicContext>) {
        router.get("healthz") { _, _ in
            // A read of the store: a server whose store is gone is not healthy.
            _ = try await workers.run { try $0.listAuthorities() }
            return Response(status: .ok, headers: [.contentType: "text/plain"], body: .init(byteBuffer: ByteBuffer(string: "ok\n")))
        }
        router.get("metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                     body: .init(byteBuffer: ByteBuffer(bytes: metrics.exposition())))
        }
        router.get(":file") { request, context in try await file(request, context) }
        if let prefix, !prefix.isEmpty {
            router.get(RouterPath(prefix + "/:file")) { request, context in try await file(request, context) }
        }
    }

    private func file(_ request: Request, _ context: PublicContext) async throws -> Response {
        let name = try context.parameters.require("file")
        guard let file = try await workers.run({ try $0.publishedFile(name) }) else {
            throw Problem(.noRoute, detail: "\(name) is not published here (NAME.crl, NAME.crl.pem or NAME.crt of a CA of this store)")
        }
        let etag = "\"\(file.sha256.prefix(32))\""
        var headers: HTTPFields = [
            .contentType: file.contentType,
            .eTag: etag,
            // Never later than now: a CRL signed this second may carry the next second.
            .lastModified: HTTPDate.format(min(file.lastModified, clock.now())),
        ]
        // Caches keep a CRL until its nextUpdate, not longer: then a newer one must exist.
        let maxAge = file.expires.map { max(0, Int($0.timeIntervalSince(clock.now()).rounded(.down))) } ?? 3_600
        headers[.cacheControl] = "public, max-age=\(maxAge)"
        if let expires = file.expires { headers[.expires] = HTTPDate.format(expires) }
        if Self.notModified(request.headers, etag: etag, lastModified: file.lastModified) {
            return Response(status: .notModified, headers: headers)
        }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: file.bytes)))
    }

    /// RFC 9110 §13.1.2-3: If-None-Match wins over If-Modified-Since.
    static func notModified(_ headers: HTTPFields, etag: String, lastModified: Date) -> Bool {
        if let match = headers[.ifNoneMatch] {
            return match.split(separator: ",").contains { tag in
                let trimmed = tag.trimmingCharacters(in: .whitespaces)
                return trimmed == "*" || trimmed == etag || trimmed == "W/" + etag
            }
        }
        if let since = headers[.ifModifiedSince].flatMap(HTTPDate.parse) {
            return lastModified.timeIntervalSince1970.rounded(.down) <= since.timeIntervalSince1970
        }
        return false
    }
}
