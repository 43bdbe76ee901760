import Foundation
import IoTCAKit
import IoTCAService

/// The store every service benchmark starts from: a fresh store with an operator client, and
/// `iotca serve` on it on ports the kernel chose.
struct BenchStore {
    static let passphrase = "benchmark passphrase"
    let root: URL
    let store: URL
    let authority: CertificateAuthority
    let clients: URL

    init(in root: URL) throws {
        self.root = root
        store = root.appendingPathComponent("store")
        _ = try StoreInitializer.initialize(at: store, options: .init(passphrase: Passphrase(Self.passphrase)))
        authority = try CertificateAuthority(store: store, passphrase: .fixed(Passphrase(Self.passphrase)))
        clients = root.appendingPathComponent("clients")
        _ = try authority.createClient("bench", role: .operator, grants: [], into: clients)
        // A station whose every issuance passes the grant checks (and the thing-history read).
        _ = try authority.createClient("bench-station", role: .station, grants: [try ClientGrant(parsing: "device:*")], into: clients)
    }

    /// `iotca serve` (the binary beside this one) with `arguments`; stop it when done.
    func serve(_ arguments: [String] = []) throws -> (server: BenchServer, api: String, public: String) {
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("iotca").path
        let server = try BenchServer(binary, arguments: ["serve", "--store", store.path, "--api-listen", "127.0.0.1:0",
                                                         "--public-listen", "127.0.0.1:0", "--log-level", "error"] + arguments,
                                     environment: ["IOTCA_PASSPHRASE": Self.passphrase], folder: root, ready: "public listening on ")
        let output = (try? String(contentsOf: server.output, encoding: .utf8)) ?? ""
        func address(_ prefix: String) -> String {
            output.split(separator: "\n").first { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) } ?? ""
        }
        return (server, address("api listening on "), address("public listening on "))
    }

    /// The operator's client (or, with `station`, the station's), with up to `connections`
    /// kept-alive connections.
    func client(_ api: String, connections: Int, station: Bool = false) throws -> APIClient {
        let name = clients.path + (station ? "/bench-station" : "/bench")
        return try APIClient(.init(url: api, clientCertificate: name + "/cert.pem", clientKey: name + "/key.pem",
                                   serverCA: name + "/root.pem"), connections: connections)
    }
}
