import Foundation
import HTTPTypes
@testable import IoTCAKit
@testable import IoTCAService
import Logging
import NIOCore
import NIOEmbedded
import NIOHTTPTypes
import Testing
import TestSupport

/// The OCSP handler beside the router, in a channel of its own: what it answers itself, what
/// it hands over to the router (whole and in order), and that its answers are the responder's.
/// Requests are made by `openssl ocsp -reqout`; answers are read back by `openssl ocsp`.
@Suite struct OCSPFastPathTests {
    final class Fixture: @unchecked Sendable {
        let store: TemporaryStore
        let responder: OCSPResponder
        let workers: Workers
        let metrics = ServiceMetrics()
        let door: OCSPFastPath.Door
        /// Requests about a good certificate: without a nonce (cacheable) and with one.
        let plain: [UInt8]
        let withNonce: [UInt8]

        init() throws {
            let store = try TemporaryStore(encrypted: false)
            self.store = store
            let bundle = try store.issue(IssueRequest(thing: "dev-1")).folder
            func request(_ options: [String]) throws -> [UInt8] {
                let out = store.folder.appending("request-\(UUID().uuidString).der")
                _ = try OpenSSLCLI.run(["ocsp", "-issuer", bundle.appendingPathComponent("chain.pem").path,
                                        "-cert", bundle.appendingPathComponent("cert.pem").path, "-reqout", out.path] + options)
                return Array(try Data(contentsOf: out))
            }
            plain = try request(["-no_nonce"])
            withNonce = try request([])
            responder = OCSPResponder(keyring: store.keyring)
            workers = Workers(keyring: store.keyring, threads: 1)
            var logger = Logger(label: "test")
            logger.logLevel = .error
            let routes = OCSPRoutes(responder: responder, workers: workers, sharedStore: false, metrics: metrics, prefix: "/pki")
            door = OCSPFastPath.Door(routes: routes, access: AccessLog(listener: "public", metrics: metrics), logger: logger,
                                     clock: { ContinuousClock.now })
        }

        func channel() throws -> EmbeddedChannel {
            let channel = EmbeddedChannel(handler: OCSPFastPath(door: door))
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9)).wait()
            return channel
        }

        func text(_ der: [UInt8]) throws -> String {
            let file = store.folder.appending("answer-\(UUID().uuidString).der")
            try Data(der).write(to: file)
            return try OpenSSLCLI.run(["ocsp", "-respin", file.path, "-resp_text", "-noverify"]).stdout
        }
    }

    static func post(_ der: [UInt8], path: String = "/ocsp", headers: HTTPFields = [:], into channel: EmbeddedChannel) throws {
        try channel.writeInbound(HTTPRequestPart.head(HTTPRequest(method: .post, scheme: nil, authority: nil, path: path, headerFields: headers)))
        try channel.writeInbound(HTTPRequestPart.body(ByteBuffer(bytes: der)))
        try channel.writeInbound(HTTPRequestPart.end(nil))
    }

    static func get(_ path: String, headers: HTTPFields = [:], into channel: EmbeddedChannel) throws {
        try channel.writeInbound(HTTPRequestPart.head(HTTPRequest(method: .get, scheme: nil, authority: nil, path: path, headerFields: headers)))
        try channel.writeInbound(HTTPRequestPart.end(nil))
    }

    /// The answer the handler wrote: its head and body, or nil when it wrote nothing.
    static func answer(from channel: EmbeddedChannel) throws -> (head: HTTPResponse, body: [UInt8])? {
        guard case .head(let head) = try channel.readOutbound(as: HTTPResponsePart.self) else { return nil }
        guard case .body(let body) = try channel.readOutbound(as: HTTPResponsePart.self),
              case .end = try channel.readOutbound(as: HTTPResponsePart.self) else {
            Issue.record("an answer without its body and end")
            return nil
        }
        return (head, Array(body.readableBytesView))
    }

    /// The parts handed on to the router, in order: "head METHOD PATH", "body N", "end".
    static func handedOver(_ channel: EmbeddedChannel) throws -> [String] {
        var parts: [String] = []
        while let part = try channel.readInbound(as: HTTPRequestPart.self) {
            switch part {
            case .head(let head): parts.append("head \(head.method.rawValue) \(head.path ?? "")")
            case .body(let body): parts.append("body \(body.readableBytes)")
            case .end: parts.append("end")
            }
        }
        return parts
    }

    /// The router's answer to one request, as Hummingbird writes it through the handler.
    static func routerAnswers(_ channel: EmbeddedChannel) throws {
        try channel.writeOutbound(HTTPResponsePart.head(HTTPResponse(status: .ok)))
        try channel.writeOutbound(HTTPResponsePart.end(nil))
        while try channel.readOutbound(as: HTTPResponsePart.self) != nil {}
    }

    @Test func itAnswersOnceTheSignerIsCertifiedAndHandsOverUntilThen() async throws {
        let fixture = try Fixture()
        let channel = try fixture.channel()
        // No signer yet: certifying one writes to the store, which is the router's to do.
        try Self.post(fixture.plain, into: channel)
        #expect(try Self.answer(from: channel) == nil)
        #expect(try Self.handedOver(channel) == ["head POST /ocsp", "body \(fixture.plain.count)", "end"])
        let routed = fixture.responder.answer(fixture.plain)  // what the route does
        try Self.routerAnswers(channel)

        try Self.post(fixture.plain, into: channel)
        let answer = try #require(try Self.answer(from: channel))
        #expect(try Self.handedOver(channel).isEmpty)
        #expect(answer.head.status == .ok && answer.head.headerFields[.contentType] == "application/ocsp-response")
        #expect(answer.head.headerFields[.contentLength] == String(answer.body.count))
        #expect(answer.head.headerFields[.date].flatMap(HTTPDate.parse) != nil)
        #expect(answer.head.headerFields[.eTag] == "\"\(try #require(routed.digest))\"")
        #expect(answer.head.headerFields[.cacheControl]?.hasPrefix("max-age=") == true)
        #expect(answer.body == routed.der)  // the cached answer, byte for byte
        #expect(try fixture.text(answer.body).contains("Cert Status: good"))

        // Signed for its nonce, and counted as the route counts.
        try Self.post(fixture.withNonce, into: channel)
        let signed = try #require(try Self.answer(from: channel))
        let text = try fixture.text(signed.body)
        #expect(text.contains("Cert Status: good") && text.contains("OCSP Nonce"), "\(text)")
        #expect(signed.head.headerFields[.cacheControl] == "no-cache")
        let metrics = String(decoding: fixture.metrics.exposition(), as: UTF8.self)
        #expect(metrics.contains(#"iotca_ocsp_responses_total{status="successful"} 2"#), "\(metrics)")
        #expect(metrics.contains(#"iotca_http_requests_total{listener="public",route="/ocsp",status="200"} 2"#), "\(metrics)")
        try await fixture.workers.shutdown()
    }

    @Test func answersStayInOrderBehindARequestTheRouterHolds() async throws {
        let fixture = try Fixture()
        _ = fixture.responder.answer(fixture.plain)  // the signer certified
        let channel = try fixture.channel()
        // A pipelined request the router has not answered yet: OCSP requests behind it go to
        // the router too, which answers in order.
        try Self.get("/healthz", into: channel)
        try Self.post(fixture.plain, into: channel)
        #expect(try Self.answer(from: channel) == nil)
        #expect(try Self.handedOver(channel) == ["head GET /healthz", "end", "head POST /ocsp", "body \(fixture.plain.count)", "end"])
        try Self.routerAnswers(channel)
        try Self.post(fixture.plain, into: channel)
        #expect(try Self.answer(from: channel) == nil)  // the router still has one
        #expect(try Self.handedOver(channel).count == 3)
        try Self.routerAnswers(channel)
        try Self.routerAnswers(channel)
        try Self.post(fixture.plain, into: channel)
        #expect(try Self.answer(from: channel) != nil)
        try await fixture.workers.shutdown()
    }

    @Test func whatOnlyTheRouteAnswersIsHandedOverWhole() async throws {
        let fixture = try Fixture()
        _ = fixture.responder.answer(fixture.plain)
        let channel = try fixture.channel()
        // A body past the limit, in chunks: every part reaches the router, which says 413.
        try channel.writeInbound(HTTPRequestPart.head(HTTPRequest(method: .post, scheme: nil, authority: nil, path: "/ocsp", headerFields: [:])))
        try channel.writeInbound(HTTPRequestPart.body(ByteBuffer(repeating: 0x30, count: 10_000)))
        try channel.writeInbound(HTTPRequestPart.body(ByteBuffer(repeating: 0x30, count: 10_000)))
        try channel.writeInbound(HTTPRequestPart.end(nil))
        #expect(try Self.handedOver(channel) == ["head POST /ocsp", "body 10000", "body 10000", "end"])
        try Self.routerAnswers(channel)
        // Targets and headers the route reads differently, or not at all.
        let encoded = Data(fixture.plain).base64EncodedString()
        try Self.get("/ocsp/\(encoded)?x=1", into: channel)
        try Self.routerAnswers(channel)
        try Self.get("/ocsp/", into: channel)
        try Self.routerAnswers(channel)
        try Self.post(fixture.plain, path: "/ocsp/more", into: channel)
        try Self.routerAnswers(channel)
        try Self.post(fixture.plain, path: "/other/ocsp", into: channel)
        try Self.routerAnswers(channel)
        try Self.post(fixture.plain, headers: [.expect: "100-continue"], into: channel)
        try Self.routerAnswers(channel)
        #expect(try Self.handedOver(channel).filter { $0.hasPrefix("head") } == [
            "head GET /ocsp/\(encoded)?x=1", "head GET /ocsp/", "head POST /ocsp/more", "head POST /other/ocsp", "head POST /ocsp",
        ])
        // GET with the request in the path, under the public URL's path too, percent-encoded
        // and without padding as some clients send it: answered here, as the route would.
        let unpadded = encoded.replacingOccurrences(of: "=", with: "").replacingOccurrences(of: "/", with: "%2F").replacingOccurrences(of: "+", with: "%2B")
        for path in ["/ocsp/\(encoded)", "/pki/ocsp/\(unpadded)"] {
            try Self.get(path, into: channel)
            let answer = try #require(try Self.answer(from: channel))
            #expect(answer.body == fixture.responder.answer(fixture.plain).der, "\(path)")
        }
        // A client that sends without reading: the router's writer waits, and so stops reading.
        channel.isWritable = false
        try Self.post(fixture.plain, into: channel)
        #expect(try Self.answer(from: channel) == nil)
        #expect(try Self.handedOver(channel).first == "head POST /ocsp")
        try Self.routerAnswers(channel)
        channel.isWritable = true
        // Garbage in the path: malformedRequest, as the route says it.
        try Self.get("/ocsp/not-base64!", into: channel)
        #expect(try Self.answer(from: channel)?.body == [0x30, 0x03, 0x0A, 0x01, 0x01])
        #expect(try Self.handedOver(channel).isEmpty)
        try await fixture.workers.shutdown()
    }

    /// A CA that may not issue signs its answers itself, with its own key (maybe on a token):
    /// the router's to do. A public URL path under /ocsp leaves GET to the router too.
    @Test func aCAsOwnSignatureAndOverlappingPathsAreTheRoutersToo() async throws {
        let fixture = try Fixture()
        _ = try AuthorityManager(keyring: fixture.store.keyring).setStatus(.disabled, of: "issuing")
        let responder = OCSPResponder(keyring: fixture.store.keyring)
        let routed = try fixture.text(try #require(responder.answer(fixture.withNonce, quickOnly: false)).der)
        #expect(routed.contains("Cert Status: good"), "\(routed)")
        #expect(responder.answer(fixture.withNonce, quickOnly: true) == nil)
        #expect(fixture.responder.answer(fixture.withNonce, quickOnly: true) == nil)  // no signer yet: certifying is the router's

        let routes = OCSPRoutes(responder: fixture.responder, workers: fixture.workers, sharedStore: false, metrics: fixture.metrics, prefix: "/ocsp")
        let door = OCSPFastPath.Door(routes: routes, access: fixture.door.access, logger: fixture.door.logger, clock: { ContinuousClock.now })
        let get = HTTPRequest(method: .get, scheme: nil, authority: nil, path: "/ocsp/issuing.crt", headerFields: [:])
        #expect(door.route(of: get) == nil)
        #expect(door.route(of: HTTPRequest(method: .post, scheme: nil, authority: nil, path: "/ocsp/ocsp", headerFields: [:]))?.name == "/ocsp/ocsp")
        try await fixture.workers.shutdown()
    }

    /// After a revocation the CAs' rows are read again, through the pool: the router's, once.
    @Test func theFirstAnswerAfterARevocationIsTheRouters() async throws {
        let fixture = try Fixture()
        #expect(fixture.responder.answer(fixture.plain, quickOnly: true) == nil)  // nothing loaded yet
        _ = fixture.responder.answer(fixture.plain)
        #expect(fixture.responder.answer(fixture.plain, quickOnly: true) != nil)
        let other = try fixture.store.issue(IssueRequest(thing: "dev-2"))
        _ = try CertificateAuthority(keyring: fixture.store.keyring).revoke(.serial(other.entry.serial, authority: nil), reason: .keyCompromise)
        #expect(fixture.responder.answer(fixture.withNonce, quickOnly: true) == nil)
        _ = fixture.responder.answer(fixture.withNonce)
        let quick = try #require(fixture.responder.answer(fixture.withNonce, quickOnly: true))
        #expect(try fixture.text(quick.der).contains("Cert Status: good"))
        try await fixture.workers.shutdown()
    }

    @Test func aClientThatAsksToCloseIsAnsweredThenClosed() async throws {
        let fixture = try Fixture()
        _ = fixture.responder.answer(fixture.plain)
        let channel = try fixture.channel()
        try Self.post(fixture.plain, headers: [.connection: "close"], into: channel)
        #expect(try Self.answer(from: channel) != nil)
        // Requests pipelined behind it are neither answered nor run (the channel may be gone).
        try? Self.post(fixture.plain, into: channel)
        try? Self.get("/healthz", into: channel)
        #expect(try Self.answer(from: channel) == nil)
        #expect(try Self.handedOver(channel).isEmpty)
        // (EmbeddedChannel closes whole when asked to close its output; a socket half-closes,
        // and closes whole when the client does or after `OCSPFastPath.lingering`.)
        channel.embeddedEventLoop.run()
        #expect(!channel.isActive)

        // A close request the router answers: what follows it is read by neither.
        let routed = try fixture.channel()
        try Self.get("/healthz", headers: [.connection: "close"], into: routed)
        try Self.post(fixture.plain, into: routed)
        #expect(try Self.handedOver(routed) == ["head GET /healthz", "end"])
        try Self.routerAnswers(routed)
        try Self.post(fixture.plain, into: routed)
        #expect(try Self.answer(from: routed) == nil)
        #expect(try Self.handedOver(routed).isEmpty)
        try await fixture.workers.shutdown()
    }
}
