import Foundation

/// The paths `broker-config` writes in its folder, shared by the configurations that name them.
struct BrokerFiles {
    let folder: URL
    let serverThing: String

    /// The CAs devices chain to: trust anchors and the intermediates a device may not send.
    var caChain: URL { folder.appendingPathComponent("ca-chain.pem") }
    /// The newest CRL of every CA in `caChain`, rebuilt by `reloadScript`.
    var crlChain: URL { folder.appendingPathComponent("crl-chain.pem") }
    /// The server's certificate then its issuing CAs: what the servers present.
    var serverChain: URL { folder.appendingPathComponent("server-chain.pem") }
    var serverBundle: URL { folder.appendingPathComponent(serverThing, isDirectory: true) }
    var serverKey: URL { serverBundle.appendingPathComponent("key.pem") }
    var serverCertificate: URL { serverBundle.appendingPathComponent("cert.pem") }
    var mosquittoConfiguration: URL { folder.appendingPathComponent("mosquitto.conf") }
    var nginxConfiguration: URL { folder.appendingPathComponent("nginx.conf") }
    var reloadScript: URL { folder.appendingPathComponent("reload-crls") }
}
