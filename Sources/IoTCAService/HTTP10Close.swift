import NIOCore
import NIOHTTP1

/// HTTP/1.0 clients wait for the server to close after its response: without
/// `Connection: keep-alive` that is HTTP/1.0's rule (RFC 9112 9.3). nginx's OCSP client is one,
/// and `openssl ocsp` another. Hummingbird closes only when a request says `Connection: close`,
/// and has lost the HTTP version by the time a route sees the request, so an HTTP/1.0 client
/// sat waiting until the idle timeout. This handler, right after the HTTP/1 decoder, writes
/// `Connection: close` into every request that is not keep-alive.
final class CloseUnlessKeepAlive: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(var head) = unwrapInboundIn(data), !head.isKeepAlive {
            head.headers.replaceOrAdd(name: "connection", value: "close")
            context.fireChannelRead(wrapInboundOut(.head(head)))
            return
        }
        context.fireChannelRead(data)
    }

    /// What goes in Hummingbird's `additionalChannelHandlers`, which it adds after its own
    /// codec (where the version is gone): a handler that puts `CloseUnlessKeepAlive` right
    /// after the HTTP/1 decoder instead, and takes itself out.
    final class Installer: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = NIOAny

        func handlerAdded(context: ChannelHandlerContext) {
            let pipeline = context.pipeline.syncOperations
            if let decoder = try? pipeline.context(handlerType: ByteToMessageHandler<HTTPRequestDecoder>.self) {
                try? pipeline.addHandler(CloseUnlessKeepAlive(), position: .after(decoder.handler))
            }
            pipeline.removeHandler(context: context, promise: nil)
        }
    }
}
