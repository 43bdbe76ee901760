import Hummingbird
import NIOCore

/// The request context of the API listener: the TLS channel (for the client certificate) and,
/// once authenticated, who the client is.
struct APIContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel
    var client: ClientIdentity?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    /// The authenticated client; routes run only behind `AuthenticationMiddleware`.
    func requireClient() throws(Problem) -> ClientIdentity {
        guard let client else { throw Problem(.unauthenticated, detail: "no client certificate was checked for this request") }
        return client
    }
}
