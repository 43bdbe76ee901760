import Foundation

/// What `broker-config` is asked for: the servers devices connect to, where their files go,
/// and the certificate the servers present.
public struct BrokerSetup: Sendable {
    /// The servers a configuration is written for.
    public enum Server: String, Sendable, CaseIterable, Codable {
        /// MQTT over TLS with client certificates, and a loopback-only plain WebSockets
        /// listener for nginx to forward to.
        case mosquitto
        /// TLS for MQTT over WebSockets (forwarded to mosquitto) and for HTTPS device requests.
        case nginx

        /// The command that makes a running server read its CRL file again, as packaged by
        /// Debian (systemd sends SIGHUP to mosquitto; nginx re-reads its configuration).
        public var defaultReload: String { "systemctl reload \(rawValue)" }
    }

    public var servers: [Server]
    /// Where every file is written; the server's bundle goes into `folder/THING/`.
    public var folder: URL
    /// The thing whose `server` certificate the servers present (its name is its DNS name).
    public var serverThing: String
    /// More names for that certificate (an IP address, other DNS names).
    public var subjectAltNames: [SubjectAltName]
    /// The CAs whose devices may connect (with their parents up to the root).
    public var authorities: [String]
    /// The CA that issues the server certificate.
    public var serverAuthority: String
    /// Listen on this address only; nil listens on every address.
    public var bindAddress: String?
    public var mqttPort: Int
    public var wssPort: Int
    public var httpsPort: Int
    /// The loopback-only plain WebSockets listener of mosquitto that nginx forwards to.
    public var websocketsPort: Int
    /// nginx's `server_name`; nil uses the server thing's name.
    public var serverName: String?
    /// Where nginx forwards HTTPS device requests (`http://127.0.0.1:8080`); nil answers only
    /// the identity check location.
    public var httpsUpstream: String?
    /// The command per server that makes it read the CRL file again.
    public var reloadCommands: [Server: String]
    /// Replace files that exist with other contents, and on-publish commands of the CAs.
    public var force: Bool
    /// Make every CA in the chains run the reload script after each new CRL.
    public var setOnPublish: Bool
    /// A group that may read the server's key (its folder 0750, the key 0640): Debian's
    /// mosquitto drops to the user `mosquitto` before it loads its key.
    public var keyGroup: String? = nil

    public init(servers: [Server], folder: URL, serverThing: String = "broker", subjectAltNames: [SubjectAltName] = [],
                authorities: [String] = ["issuing"], serverAuthority: String = "issuing", bindAddress: String? = nil,
                mqttPort: Int = 8883, wssPort: Int = 443, httpsPort: Int = 8443, websocketsPort: Int = 9001,
                serverName: String? = nil, httpsUpstream: String? = nil, reloadCommands: [Server: String] = [:],
                force: Bool = false, setOnPublish: Bool = false) {
        self.servers = servers
        self.folder = folder
        self.serverThing = serverThing
        self.subjectAltNames = subjectAltNames
        self.authorities = authorities
        self.serverAuthority = serverAuthority
        self.bindAddress = bindAddress
        self.mqttPort = mqttPort
        self.wssPort = wssPort
        self.httpsPort = httpsPort
        self.websocketsPort = websocketsPort
        self.serverName = serverName
        self.httpsUpstream = httpsUpstream
        self.reloadCommands = reloadCommands
        self.force = force
        self.setOnPublish = setOnPublish
    }

    func reloadCommand(_ server: Server) -> String { reloadCommands[server] ?? server.defaultReload }
}

/// What `broker-config` did.
public struct BrokerSetupResult: Sendable {
    public struct File: Sendable, Equatable {
        public enum Change: String, Sendable { case written, replaced, unchanged }
        public let path: String
        public let change: Change
    }
    public let files: [File]
    /// The certificate the servers present.
    public let serverCertificate: CertificateEntry
    /// Whether it was issued now (else the one already in the folder is used).
    public let issuedServerCertificate: Bool
    /// The CAs whose CRLs the servers check (every CA of the chains).
    public let crlAuthorities: [String]
    /// The script that rebuilds the CRL file and reloads the servers.
    public let reloadScript: URL
    /// The on-publish command that runs it (its path as one shell word).
    public let onPublishCommand: String
    /// The CAs whose on-publish command was set to the reload script.
    public let onPublishSet: [String]
}
