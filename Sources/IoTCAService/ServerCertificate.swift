import Foundation
import IoTCAKit
import NIOSSL
import X509

/// The API listener's certificate: the configured files, or an `api-server` certificate of the
/// store's service CA kept in `STORE/serve/NAME/` (a bundle folder like any other), made on
/// first start and renewed at start when a third of its validity or less is left, or when it
/// was revoked. Clients trust it with the service root alone (the `root.pem` of a station's,
/// operator's or claim's bundle), which certifies no other server.
enum ServerCertificate {
    struct Material {
        let chain: [NIOSSLCertificate]
        let key: NIOSSLPrivateKey
        /// Where it came from, for the start-up message.
        let origin: String
    }

    static func load(_ configuration: ServiceConfiguration, authority: CertificateAuthority) throws -> Material {
        if let certificate = configuration.tlsCertificate, let key = configuration.tlsKey {
            return try material(chain: certificate, key: key, origin: certificate)
        }
        let folder = authority.store.layout.root.appendingPathComponent("serve", isDirectory: true)
        let bundle = folder.appendingPathComponent(configuration.serverName, isDirectory: true)
        let certificateFile = bundle.appendingPathComponent("cert.pem")
        if try !isUsable(certificateFile, name: configuration.serverName, authority: authority) {
            var names = [try SubjectAltName("ip:127.0.0.1"), try SubjectAltName("ip:::1")]
            let host = configuration.apiListen.host
            if host != configuration.serverName, host != "0.0.0.0", host != "::", !names.contains(where: { $0.value == host }),
               let name = try? SubjectAltName("ip:\(host)") {
                names.append(name)
            }
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            let renew = try !authority.store.activeSerials(thing: configuration.serverName).isEmpty
            // Nodes of a shared store each keep their own certificate under one name: a node
            // starting must not revoke the certificate another node is serving with, nor roll
            // onto a next key that only the other node's folder holds.
            let shared = authority.store.isShared
            var request = IssueRequest(thing: configuration.serverName, authority: ServiceHierarchy.caName,
                                       template: ClientRole.apiServerTemplate, subjectAltNames: names,
                                       renew: renew, force: true, supersede: renew && !shared)
            if shared { request.renewalKey = .new }
            _ = try authority.issue(request, into: folder)
        }
        // The leaf and the issuing CAs above it; the root stays with the clients.
        let chainFile = bundle.appendingPathComponent("chain.pem")
        let chained = folder.appendingPathComponent("\(configuration.serverName).fullchain.pem")
        let joined = try Data(contentsOf: certificateFile) + Data(contentsOf: chainFile)
        try AtomicFile.write(Array(joined), to: chained, mode: 0o644)
        return try material(chain: chained.path, key: bundle.appendingPathComponent("key.pem").path, origin: bundle.path)
    }

    /// Whether the bundle's certificate is still this store's, active, for this name, with more
    /// than a third of its validity left.
    private static func isUsable(_ file: URL, name: String, authority: CertificateAuthority) throws -> Bool {
        guard let text = try? String(contentsOf: file, encoding: .utf8),
              let certificate = try? Certificate(pemEncoded: text) else { return false }
        let serial = SerialNumber(bytes: Array(certificate.serialNumber.bytes))
        guard let entry = try authority.store.certificates(serial: serial).first(where: { $0.thing == name }),
              entry.status == .active, entry.template == ClientRole.apiServerTemplate, entry.authority == ServiceHierarchy.caName else {
            return false
        }
        let now = authority.store.clock.now()
        let lifetime = entry.notAfter.timeIntervalSince(entry.notBefore)
        return entry.notAfter.timeIntervalSince(now) > lifetime / 3
    }

    private static func material(chain: String, key: String, origin: String) throws -> Material {
        do {
            let certificates = try NIOSSLCertificate.fromPEMFile(chain)
            guard !certificates.isEmpty else { throw ServiceError.tlsFiles("\(chain) holds no certificate") }
            // By content, not by file name: NIOSSL guesses DER from a `.key` extension.
            return Material(chain: certificates, key: try NIOSSLPrivateKey(file: key, format: .pem), origin: origin)
        } catch let error as ServiceError {
            throw error
        } catch {
            throw ServiceError.tlsFiles("\(chain), \(key): \(error)")
        }
    }
}
