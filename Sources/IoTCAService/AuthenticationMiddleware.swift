import Hummingbird
import X509

/// Every API route runs behind this: the client certificate is checked against the store
/// (`ClientAuthenticator`) on each request, then the client's rate limit is taken.
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = APIContext
    let authenticator: ClientAuthenticator
    let rateLimiter: RateLimiter?
    let peers: PeerCertificates

    func handle(_ request: Request, context: APIContext, next: (Request, APIContext) async throws -> Response) async throws -> Response {
        var context = context
        let presented: (certificate: Certificate, der: [UInt8])?
        do {
            presented = try await peers.presented(on: context.channel)
        } catch {
            throw Problem(.unauthenticated, detail: "the client certificate could not be read: \(error)")
        }
        let client = try await authenticator.identify(presented)
        context.client = client
        if let rateLimiter, let wait = rateLimiter.take(client.serial) {
            throw Problem(.rateLimited, detail: "client \(client.name) is over its rate limit; retry in \(wait) s", retryAfter: wait)
        }
        return try await next(request, context)
    }
}
