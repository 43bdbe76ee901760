import NIOCore
import NIOSSL
import Synchronization
import X509

/// The client certificate of each open TLS connection, read from the handshake once and kept
/// until the connection closes. Reading it from NIOSSL means a hop to the connection's event
/// loop; with keep-alive that hop and the parse were paid on every request for the same bytes.
/// Only the certificate is kept: whether it is still good is asked of the store every time.
final class PeerCertificates: Sendable {
    typealias Presented = (certificate: Certificate, der: [UInt8])

    private struct Held: @unchecked Sendable {
        // Certificate is Sendable; the tuple is not declared so.
        let presented: Presented?
    }
    private let open = Mutex<[ObjectIdentifier: Held]>([:])

    /// The certificate `channel`'s client presented, or nil if it presented none.
    func presented(on channel: any Channel) async throws -> Presented? {
        let key = ObjectIdentifier(channel)
        if let held = open.withLock({ $0[key] }) { return held.presented }
        let presented: Presented?
        if let certificate = try await channel.nioSSL_peerCertificate().get() {
            let der = try certificate.toDERBytes()
            presented = (try Certificate(derEncoded: der), der)
        } else {
            presented = nil
        }
        // Stored before the close callback is registered: on a channel already closed the
        // callback runs at once, so nothing outlives its connection.
        open.withLock { $0[key] = Held(presented: presented) }
        channel.closeFuture.whenComplete { [self] _ in _ = open.withLock { $0.removeValue(forKey: key) } }
        return presented
    }
}
