import Hummingbird
import NIOCore

/// The request context of the public listener: the channel, for the peer's address (CMP
/// counts failed secrets per source, as EST does on the API listener).
struct PublicContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}
