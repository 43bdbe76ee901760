import Hummingbird
import NIOCore
import NIOSSL
import X509

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

    /// The certificate the client presented in the TLS handshake, if any, parsed and as sent.
    func peerCertificate() async throws -> (certificate: Certificate, der: [UInt8])? {
        guard let presented = try await channel.nioSSL_peerCertificate().get() else { return nil }
        let der = try presented.toDERBytes()
        return (try Certificate(derEncoded: der), der)
    }

    /// The authenticated client; routes run only behind `AuthenticationMiddleware`.
    func requireClient() throws(Problem) -> ClientIdentity {
        guard let client else { throw Problem(.unauthenticated, detail: "no client certificate was checked for this request") }
        return client
    }
}
