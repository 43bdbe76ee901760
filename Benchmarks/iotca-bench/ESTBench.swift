import ArgumentParser
import Foundation
import IoTCAKit
import IoTCAService

/// EST enrolments with one-time tokens against `iotca serve`: N devices, each with its own
/// token and CSR (made beforehand), over C concurrent TLS connections.
struct ESTBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "est", abstract: "EST enrolments per second of iotca serve (token, HTTP Basic over TLS).")

    @Option(help: "Enrolments.") var count = 2_000
    @Option(help: "Concurrent keep-alive connections.") var connections = 8

    func run() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("iotca-est-bench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let bench = try BenchStore(in: root)
        let authority = bench.authority
        print("Making \(count) tokens and CSRs...")
        var requests: [(authorization: String, body: [UInt8])] = []
        for index in 0..<count {
            let token = try authority.createEnrolmentToken(thing: "est-\(index)")
            let credentials = Data("est-\(index):\(token.secret)".utf8).base64EncodedString()
            let pem = try ServeBench.csr()
            let der = PEMDocumentBody.der(pem)
            requests.append(("Basic \(credentials)", Array(Data(der).base64EncodedString(options: .lineLength64Characters).utf8)))
        }
        let (server, api, _) = try bench.serve()
        defer { server.stop() }
        let client = try bench.client(api, connections: connections)
        let prepared = requests
        let run = try await ServeBench.load(count: count, connections: connections) { index in
            let (authorization, body) = prepared[index]
            let answer = try await client.exchange(.POST, "/.well-known/est/simpleenroll", json: nil, body: body,
                                                   headers: [("authorization", authorization), ("content-type", "application/pkcs10")])
            try ServeBench.expect(200, answer.status, "iotca EST")
        }
        await client.shutdown()
        print("\nEST on this machine (\(ProcessInfo.processInfo.activeProcessorCount) cores), \(count) enrolments, \(connections) connections, \(ServeBench.today()):")
        print("| request | enrolments/s | p50 ms | p99 ms |")
        print("|---|---|---|---|")
        print(String(format: "| simpleenroll, token over HTTP Basic, CSR (recorded, token spent) | %.0f | %.2f | %.2f |", run.rate, run.p50, run.p99))
    }
}

/// The DER inside a PEM CSR the benchmark made itself.
enum PEMDocumentBody {
    static func der(_ pem: String) -> [UInt8] {
        let body = pem.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        return Array(Data(base64Encoded: body) ?? Data())
    }
}
