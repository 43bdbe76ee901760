import Foundation
import HTTPTypes
import Hummingbird
import IoTCAKit
import NIOCore

/// Lightweight CMP over HTTP (RFC 9483 with RFC 6712): `POST /.well-known/cmp[/p/LABEL][/OPERATION]`,
/// `application/pkixcmp` both ways, on both listeners: CMP messages protect themselves (a MAC
/// with the enrolment token, or a signature), so plain HTTP is as safe as TLS for them, and
/// devices enrol without first having to check a TLS server. The failure counter is shared by
/// both. Every CMP answer
/// is 200 with a PKIMessage, refusals included (RFC 6712 3.4); HTTP errors are left for
/// requests that are not CMP at all.
struct CMPRoutes {
    let workers: Workers
    let metrics: ServiceMetrics
    let responder: CMPResponder
    /// Validates a signed request's certificate chain, as for TLS clients: claims against the
    /// node's pinned service root, devices against the store's CAs.
    let authenticator: ClientAuthenticator
    /// Failed secrets per source address, as for EST: a guesser gets `ESTRoutes.failureBurst`
    /// tries, then one every few seconds.
    let failures: RateLimiter
    static let contentType = "application/pkixcmp"

    /// RFC 9483 6.1's operation names, and the bodies each may carry.
    static let operations: [String: Set<String>] = [
        "initialization": ["ir", "certConf", "error"], "certification": ["cr", "certConf", "error"],
        "keyupdate": ["kur", "certConf", "error"], "pkcs10": ["p10cr", "certConf", "error"], "revocation": ["rr"],
        "getcacerts": ["genm"], "getrootupdate": ["genm"], "getcertreqtemplate": ["genm"], "getcrls": ["genm"],
    ]

    func add<Context: RequestContext>(to router: Router<Context>, source: @escaping @Sendable (Context) -> String) {
        for path in [".well-known/cmp", ".well-known/cmp/:operation", ".well-known/cmp/p/:label", ".well-known/cmp/p/:label/:operation"] {
            router.post(RouterPath(path)) { request, context in try await answer(request, context, source: source(context)) }
        }
    }

    private func answer<Context: RequestContext>(_ request: Request, _ context: Context, source: String) async throws -> Response {
        let label = context.parameters.get("label")
        if let label { _ = try await workers.run { try $0.template(named: label) } }
        let operation = context.parameters.get("operation")
        if let operation, Self.operations[operation] == nil {
            throw Problem(.notFound, detail: "no CMP operation \(operation) (known: \(Self.operations.keys.sorted().joined(separator: ", ")))")
        }
        guard request.headers[.contentType]?.lowercased().hasPrefix(Self.contentType) == true else {
            throw Problem(.unsupportedMediaType, detail: "send a DER PKIMessage as \(Self.contentType)")
        }
        if let wait = failures.wait(source) {
            metrics.cmpAnswered(request: "unknown", outcome: "rate_limited")
            throw Problem(.rateLimited, detail: "too many failed CMP requests from \(source); retry in \(wait) s", retryAfter: wait)
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: ESTRoutes.bodyLimit)
        } catch is NIOTooManyBytesError {
            throw Problem(.tooLarge, detail: "the request is larger than \(ESTRoutes.bodyLimit) bytes")
        }
        let received = CMPResponder.Received(Array(body.readableBytesView))
        var chain: CMPResponder.ValidatedChain?
        if let signer = received.signerCertificate {
            if (try? await authenticator.validateChain(signer, to: .service)) != nil {
                chain = .serviceRoot
            } else if (try? await authenticator.validateChain(signer, to: .store)) != nil {
                chain = .storeRoots
            }
        }
        let validated = chain
        let answer = try await workers.run(client: "cmp") { ca in
            responder.respond(to: received, label: label, operation: operation.flatMap { Self.operations[$0] }, chain: validated, ca: ca)
        }
        if answer.authenticationFailed { _ = failures.take(source) }
        metrics.cmpAnswered(request: answer.request, outcome: answer.failure.map { "\($0.bit)" } ?? "ok")
        if answer.failure == nil, ["ir", "cr", "kur", "p10cr"].contains(answer.request) {
            metrics.issued(template: label ?? "device", keySource: "cmp")
        }
        guard !answer.der.isEmpty else { throw Problem(.internalError, detail: "the CA could not sign its CMP answer") }
        return Response(status: .ok, headers: [.contentType: Self.contentType, .cacheControl: "no-store"],
                        body: .init(byteBuffer: ByteBuffer(bytes: answer.der)))
    }
}
