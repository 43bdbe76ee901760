import ArgumentParser
import AsyncHTTPClient
import Crypto
import Foundation
import IoTCAKit
import NIOCore

/// Lightweight CMP enrolments against `iotca serve`, beside EST's in the same run: N devices,
/// each with its own token and key (made beforehand), C at a time. CMP with implicit
/// confirmation is one round trip like EST's simpleenroll; with certConf, two.
struct CMPBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cmp", abstract: "CMP enrolments per second of iotca serve, beside EST's.")

    @Option(help: "Enrolments per row.") var count = 2_000
    @Option(help: "Concurrent keep-alive connections.") var connections = 8

    func run() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("iotca-cmp-bench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let bench = try BenchStore(in: root)
        let authority = bench.authority
        print("Making \(3 * count) tokens and keys...")
        func devices(_ prefix: String) throws -> [(CMPClientRequest, [UInt8])] {
            try (0..<count).map { index in
                let thing = "\(prefix)-\(index)"
                let client = CMPClientRequest(thing: thing, secret: try authority.createEnrolmentToken(thing: thing).secret)
                return (client, try CMPClientRequest.certificationRequest(key: P256.Signing.PrivateKey(), subject: thing))
            }
        }
        let implicit = try devices("implicit"), confirmed = try devices("confirmed")
        let est = try (0..<count).map { index in
            let token = try authority.createEnrolmentToken(thing: "est-\(index)")
            let der = PEMDocumentBody.der(try ServeBench.csr())
            return ("Basic " + Data("est-\(index):\(token.secret)".utf8).base64EncodedString(), Array(Data(der).base64EncodedString().utf8))
        }
        let (server, api, publicURL) = try bench.serve()
        defer { server.stop() }
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(
            connectionPool: .init(idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: connections)))
        let url = publicURL + "/.well-known/cmp"
        @Sendable func post(_ body: [UInt8]) async throws -> CMPClientRequest.Answer {
            var request = HTTPClientRequest(url: url)
            request.method = .POST
            request.headers.add(name: "content-type", value: "application/pkixcmp")
            request.body = .bytes(ByteBuffer(bytes: body))
            let response = try await http.execute(request, timeout: .seconds(30))
            return try CMPClientRequest.Answer(Array(try await response.body.collect(upTo: 1 << 16).readableBytesView))
        }
        var rows: [(String, ServeBench.Measurement)] = []
        let oneTrip = try await ServeBench.load(count: count, connections: connections, server: server) { index in
            let (client, request) = implicit[index]
            let answer = try await post(try client.message(tag: 0, body: request, now: Date(), implicitConfirm: true))
            guard answer.bodyTag == 1, answer.certificate != nil else { throw ValidationError("CMP ir was refused (body \(answer.bodyTag))") }
        }
        rows.append(("CMP ir, token (PBM), implicit confirmation: one round trip", oneTrip))
        let twoTrips = try await ServeBench.load(count: count, connections: connections, server: server) { index in
            let (client, request) = confirmed[index]
            let answer = try await post(try client.message(tag: 0, body: request, now: Date()))
            guard answer.bodyTag == 1, let certificate = answer.certificate else { throw ValidationError("CMP ir was refused (body \(answer.bodyTag))") }
            let confirmation = try await post(try client.message(tag: 24, body: CMPClientRequest.confirmation(of: certificate), now: Date(),
                                                                 recipientNonce: answer.senderNonce))
            guard confirmation.bodyTag == 19 else { throw ValidationError("CMP certConf was refused (body \(confirmation.bodyTag))") }
        }
        rows.append(("CMP ir + certConf: two round trips", twoTrips))
        try await http.shutdown()
        let client = try bench.client(api, connections: connections)
        let estRun = try await ServeBench.load(count: count, connections: connections, server: server) { index in
            let (authorization, body) = est[index]
            let answer = try await client.exchange(.POST, "/.well-known/est/simpleenroll", json: nil, body: body,
                                                   headers: [("authorization", authorization), ("content-type", "application/pkcs10")])
            try ServeBench.expect(200, answer.status, "iotca EST")
        }
        await client.shutdown()
        rows.append(("EST simpleenroll, token over HTTP Basic in TLS, CSR", estRun))
        print("\nEnrolments on this machine (\(ProcessInfo.processInfo.activeProcessorCount) cores), \(count) each, \(connections) connections, \(ServeBench.today()):")
        print("| protocol, request | enrolments/s | p50 ms | p99 ms | server CPU ms/enrolment |")
        print("|---|---|---|---|---|")
        for (name, run) in rows {
            print(String(format: "| %@ | %.0f | %.2f | %.2f | %@ |", name, run.rate, run.p50, run.p99, run.cpuText))
        }
    }
}
