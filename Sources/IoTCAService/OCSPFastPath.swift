import Foundation
import HTTPTypes
import HummingbirdCore
import IoTCAKit
import Logging
import NIOCore
import NIOHTTPTypes

/// OCSP answered on the event loop that read the request, for a store on this machine.
///
/// Through the router, each request crosses from the event loop to Swift's cooperative pool
/// and its answer back, through Hummingbird's asynchronous channel, router and middleware:
/// about two thirds of a cached answer's CPU (`perf record` of the responder under load). An
/// OCSP answer needs none of it: it is a read of the revocation count, a cache lookup, and
/// at most a status read and a signature with a signer already in memory, all synchronous
/// and in microseconds on SQLite. So this handler, behind Hummingbird's connection state
/// handler (which keeps counting requests for its idle timeout and graceful shutdown), takes
/// the OCSP requests it can answer that way and writes the answer itself.
///
/// It takes nothing it cannot answer exactly as the route would: a request while an earlier
/// one of the connection is still with Hummingbird (answers stay in order), a body over the
/// limit, an `Expect` header or a target with a query goes on to the router, with every part
/// it held; so does every request while the channel is unwritable, and every answer that is
/// not reads and a signature of microseconds (`OCSPResponder.answer(_:quickOnly:)`). A shared
/// store is never answered here: its reads wait for a database round trip, which must not
/// hold an event loop.
final class OCSPFastPath: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// What the handlers of every connection share.
    struct Door: Sendable {
        /// A route this handler answers: as the router names it, and its metrics for a 200.
        struct Route: Sendable {
            let name: String
            /// The path (POST) or the path's beginning (GET).
            let path: String
            let base: String
            let recorder: ServiceMetrics.RouteRecorder
        }

        let routes: OCSPRoutes
        let access: AccessLog
        let logger: Logger
        let clock: @Sendable () -> ContinuousClock.Instant
        private let posts: [Route]
        private let gets: [Route]

        init(routes: OCSPRoutes, access: AccessLog, logger: Logger, clock: @escaping @Sendable () -> ContinuousClock.Instant) {
            self.routes = routes
            self.access = access
            self.logger = logger
            self.clock = clock
            func route(_ name: String, _ path: String, _ base: String) -> Route {
                Route(name: name, path: path, base: base, recorder: access.metrics.recorder(listener: access.listener, route: name, status: 200))
            }
            posts = routes.bases.map { route($0 + "/ocsp", $0 + "/ocsp", $0) }
            // A public URL whose path begins with /ocsp puts its files (`/ocsp/:file`) where the
            // router would choose between them and OCSP: GET is then left to the router.
            gets = routes.bases.contains { $0.hasPrefix("/ocsp") } ? [] : routes.bases.map { route($0 + "/ocsp/**", $0 + "/ocsp/", $0) }
        }

        /// The route a request would reach, when this handler may take it.
        func route(of head: HTTPRequest) -> Route? {
            guard let path = head.path, head.method == .post || head.method == .get else { return nil }
            let bytes = path.utf8
            guard !bytes.contains(UInt8(ascii: "?")), !bytes.contains(UInt8(ascii: "#")), head.headerFields[.expect] == nil else { return nil }
            if head.method == .post { return posts.first { $0.path == path } }
            return gets.first { bytes.count > $0.path.utf8.count && path.hasPrefix($0.path) }
        }
    }

    private struct Held {
        let head: HTTPRequest
        let route: Door.Route
        var body: ByteBuffer?
        let started: ContinuousClock.Instant
    }

    private let door: Door
    /// The request being read, while this handler holds it.
    private var held: Held?
    /// Requests handed to the router whose answers are not all written yet.
    private var withRouter = 0
    private var closing = false
    /// A request handed to the router asked to close: Hummingbird answers it and reads no more.
    private var routerCloses = false

    static func asksToClose(_ head: HTTPRequest) -> Bool {
        head.headerFields[.connection]?.lowercased() == "close"
    }

    /// Hummingbird's own test, to the letter (`HTTPChannelHandler`): "Close" it keeps reading after.
    static func hummingbirdCloses(after head: HTTPRequest) -> Bool {
        head.headerFields[.connection] == "close"
    }

    /// How long a client has to read its last answer after the output is closed, before the
    /// connection goes (requests it pipelined behind would otherwise keep it open).
    static let lingering = TimeAmount.seconds(5)

    init(door: Door) {
        self.door = door
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // After an answer to a client that asked to close, nothing more is read or run.
        guard !closing else { return }
        switch unwrapInboundIn(data) {
        case .head(let head):
            // Hummingbird reads nothing after a request that asked to close: neither does this.
            if routerCloses {
                closing = true
                return
            }
            // An unwritable channel (a client that sends and does not read) goes to the router,
            // whose writer waits and so stops reading: answers here would queue without bound.
            if withRouter == 0, context.channel.isWritable, let route = door.route(of: head) {
                held = Held(head: head, route: route, body: nil, started: door.clock())
                return
            }
            withRouter += 1
            routerCloses = Self.hummingbirdCloses(after: head)
            context.fireChannelRead(data)
        case .body(let chunk):
            guard var request = held else { return context.fireChannelRead(data) }
            let size = (request.body?.readableBytes ?? 0) + chunk.readableBytes
            guard size <= OCSPRoutes.bodyLimit else {
                handOver(request, context: context)
                return context.fireChannelRead(data)
            }
            held = nil  // no copy-on-write of the buffer while appending
            if request.body == nil { request.body = chunk } else { request.body?.writeImmutableBuffer(chunk) }
            held = request
        case .end:
            guard let request = held else { return context.fireChannelRead(data) }
            held = nil
            let der = request.head.method == .get
                ? OCSPRoutes.requestDER(path: request.head.path ?? "", base: request.route.base)
                : request.body.map { Array($0.readableBytesView) } ?? []
            guard let answer = door.routes.responder.answer(der, quickOnly: true) else {
                handOver(request, context: context)
                return context.fireChannelRead(data)
            }
            respond(answer, to: request, context: context)
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // (Never below zero: a parse error's 400 answers no request that was handed on.)
        if case .end = unwrapOutboundIn(data) { withRouter = max(0, withRouter - 1) }
        context.write(data, promise: promise)
    }

    /// The router takes the request after all, with what was read of it.
    private func handOver(_ request: Held, context: ChannelHandlerContext) {
        held = nil
        withRouter += 1
        routerCloses = Self.hummingbirdCloses(after: request.head)
        context.fireChannelRead(wrapInboundOut(.head(request.head)))
        if let body = request.body { context.fireChannelRead(wrapInboundOut(.body(body))) }
    }

    private func respond(_ answer: OCSPResponder.Answer, to request: Held, context: ChannelHandlerContext) {
        door.routes.counted(answer)
        door.access.metrics.ocspBesideRouter.increment()
        var headers = OCSPRoutes.headers(for: answer)
        headers[.contentLength] = String(answer.der.count)
        headers[.date] = HTTPDate.current()
        var body = context.channel.allocator.buffer(capacity: answer.der.count)
        body.writeBytes(answer.der)
        context.write(wrapOutboundOut(.head(HTTPResponse(status: .ok, headerFields: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(body)), promise: nil)
        // As Hummingbird does: a client that asked to close (HTTP/1.0 without keep-alive
        // included, see `CloseUnlessKeepAlive`) is answered, then the connection closes.
        if Self.asksToClose(request.head) {
            closing = true
            let written = context.eventLoop.makePromise(of: Void.self)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: written)
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            // The output only, as Hummingbird closes: a full close with unread bytes in the
            // receive buffer sends a reset, which can cost the client the answer.
            written.futureResult.whenComplete { _ in
                bound.value.close(mode: .output, promise: nil)
                bound.value.eventLoop.scheduleTask(in: Self.lingering) { bound.value.close(promise: nil) }
            }
        } else {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
        door.access.record(method: request.head.method.rawValue, path: request.head.path ?? "", route: request.route.name, status: 200,
                           elapsed: door.clock() - request.started, recorder: request.route.recorder, logger: door.logger)
    }

    /// What goes in Hummingbird's `additionalChannelHandlers`, which it adds before its
    /// connection state handler: a handler that waits until the pipeline is whole (the
    /// connection is active) and puts `OCSPFastPath` right behind that handler. Without the
    /// state handler (another Hummingbird), nothing is installed and the router answers all.
    final class Installer: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = NIOAny
        let door: Door

        init(door: Door) {
            self.door = door
        }

        func channelActive(context: ChannelHandlerContext) {
            let pipeline = context.pipeline.syncOperations
            if let state = try? pipeline.context(handlerType: HTTPConnectionStateHandler.self) {
                try? pipeline.addHandler(OCSPFastPath(door: door), position: .after(state.handler))
            }
            context.fireChannelActive()
            pipeline.removeHandler(context: context, promise: nil)
        }
    }
}
