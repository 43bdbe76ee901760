import ArgumentParser
import AsyncHTTPClient
import Crypto
import Foundation
import IoTCAKit
import NIOCore
import TestSupport
import X509

/// The OCSP responder of `iotca serve` under load: answers from its cache (no nonce, as
/// RFC 5019 clients and nginx ask) and answers signed for each request (a nonce each), beside
/// OpenSSL's own responder (`openssl ocsp -index`, one process per core) on the same CA and
/// certificates, all in one run.
struct OCSPBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ocsp", abstract: "OCSP answers per second of iotca serve (cached and signed) beside openssl ocsp -index.")

    @Option(help: "Requests per kind.") var count = 20_000
    @Option(help: "Concurrent keep-alive connections.") var connections = 32
    @Option(help: "Certificates asked about (a tenth of them revoked).") var certificates = 1_000
    @Flag(help: "Skip OpenSSL's responder.") var noOpenssl = false

    func run() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("iotca-ocsp-bench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let bench = try BenchStore(in: root)
        let (storeURL, authority, passphrase) = (bench.store, bench.authority, BenchStore.passphrase)
        print("Issuing \(certificates) certificates...")
        var entries: [CertificateEntry] = []
        for index in 0..<certificates {
            entries.append(try authority.issue(IssueRequest(thing: "ocsp-\(index)"), into: root.appendingPathComponent("bundles"), format: .json).entry)
        }
        for entry in entries.prefix(certificates / 10) { _ = try authority.revoke(.serial(entry.serial, authority: nil), reason: .keyCompromise) }
        let issuing = try authority.authority(named: "issuing")
        guard let issuingDER = issuing.certificateDER, let (name, bits) = OCSPResponder.subjectAndKeyBits(issuingDER) else {
            throw ValidationError("the issuing CA has no certificate")
        }
        let nameHash = Array(Insecure.SHA1.hash(data: name)), keyHash = Array(Insecure.SHA1.hash(data: bits))
        let plain = entries.map { Self.request(nameHash, keyHash, serial: $0.serial.bytes, nonce: nil) }
        let withNonce = (0..<count).map { Self.request(nameHash, keyHash, serial: entries[$0 % entries.count].serial.bytes,
                                                      nonce: (0..<16).map { _ in UInt8.random(in: 0...255) }) }

        let (server, _, publicURL) = try bench.serve()
        defer { server.stop() }
        let url = publicURL + "/ocsp"
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(
            connectionPool: .init(idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: connections)))
        @Sendable func post(_ url: String, _ body: [UInt8]) async throws {
            var request = HTTPClientRequest(url: url)
            request.method = .POST
            request.headers.add(name: "content-type", value: "application/ocsp-request")
            request.body = .bytes(ByteBuffer(bytes: body))
            let response = try await http.execute(request, timeout: .seconds(30))
            let answer = try await response.body.collect(upTo: 1 << 16)
            // A successful OCSPResponse: SEQUENCE, then ENUMERATED 0 after the length.
            guard response.status == .ok, answer.readableBytes > 8, answer.getBytes(at: answer.readerIndex + 2, length: 3) == [0x0A, 0x01, 0x00]
                    || answer.getBytes(at: answer.readerIndex + 3, length: 3) == [0x0A, 0x01, 0x00]
                    || answer.getBytes(at: answer.readerIndex + 4, length: 3) == [0x0A, 0x01, 0x00] else {
                throw ValidationError("\(url) did not answer successfully (\(response.status))")
            }
        }
        var rows: [(String, ServeBench.Measurement)] = []
        // The floor: HTTP and a refusal, no store read and no signature.
        let floor = try await ServeBench.load(count: count, connections: connections, server: server) { _ in
            var request = HTTPClientRequest(url: url)
            request.method = .POST
            request.body = .bytes(ByteBuffer(bytes: [0x30, 0x00]))
            let response = try await http.execute(request, timeout: .seconds(30))
            _ = try await response.body.collect(upTo: 1 << 10)
        }
        rows.append(("iotca serve, floor: a malformed request (no store read, no signature)", floor))
        for body in plain { try await post(url, body) }  // fills the cache
        let cached = try await ServeBench.load(count: count, connections: connections, server: server) { try await post(url, plain[$0 % plain.count]) }
        rows.append(("iotca serve, cached (no nonce)", cached))
        let signed = try await ServeBench.load(count: count, connections: connections, server: server) { try await post(url, withNonce[$0]) }
        rows.append(("iotca serve, signed per request (nonce)", signed))

        if !noOpenssl {
            let index = root.appendingPathComponent("index.txt")
            let expiry = "\(Timestamp.format(Date().addingTimeInterval(86_400 * 300)).prefix(10).replacingOccurrences(of: "-", with: "").dropFirst(2))000000Z"
            var lines = ""
            for (offset, entry) in entries.enumerated() {
                let serial = entry.serial.hex.uppercased()
                // openssl's index wants one subject per line.
                let subject = "/CN=\(entry.thing ?? serial)"
                lines += offset < certificates / 10 ? "R\t\(expiry)\t\(expiry),keyCompromise\t\(serial)\tunknown\t\(subject)\n"
                    : "V\t\(expiry)\t\t\(serial)\tunknown\t\(subject)\n"
            }
            try Data(lines.utf8).write(to: index)
            let caFile = root.appendingPathComponent("issuing.pem"), keyFile = root.appendingPathComponent("issuing.key")
            try Data(try issuing.certificate().serializeAsPEM().pemString.utf8).write(to: caFile)
            _ = try ServeBench.shell(["openssl", "pkey", "-in", storeURL.path + "/" + issuing.keyFile, "-passin", "pass:\(passphrase)", "-out", keyFile.path])
            let port = 19_000 + Int.random(in: 0..<1000)
            let cores = ProcessInfo.processInfo.activeProcessorCount
            let openssl = try BenchServer("/usr/bin/openssl", arguments: ["ocsp", "-index", index.path, "-CA", caFile.path, "-rsigner", caFile.path,
                                                                          "-rkey", keyFile.path, "-port", String(port), "-nmin", "60", "-multi", String(cores),
                                                                          "-ignore_err"],
                                          environment: [:], folder: root, ready: "ACCEPT", forceful: true)
            defer { openssl.stop() }
            let opensslRun = try await ServeBench.load(count: count, connections: connections, server: openssl) {
                try await post("http://127.0.0.1:\(port)/", withNonce[$0])
            }
            rows.append(("openssl ocsp -index -multi \(cores) (signs each, one request per connection)", opensslRun))
        }
        try await http.shutdown()
        print("\nOCSP on this machine (\(ProcessInfo.processInfo.activeProcessorCount) cores), \(count) requests each, \(connections) connections, \(ServeBench.today()):")
        print("| responder, answer | answers/s | p50 ms | p99 ms | server CPU ms/answer |")
        print("|---|---|---|---|---|")
        for (name, measurement) in rows {
            print(String(format: "| %@ | %.0f | %.2f | %.2f | %@ |", name, measurement.rate, measurement.p50, measurement.p99, measurement.cpuText))
        }
    }

    /// An OCSPRequest with one SHA-1 CertID, and a nonce when given (what `openssl ocsp` sends).
    static func request(_ nameHash: [UInt8], _ keyHash: [UInt8], serial: [UInt8], nonce: [UInt8]?) -> [UInt8] {
        func element(_ tag: UInt8, _ content: [UInt8]) -> [UInt8] {
            precondition(content.count < 0x10000)
            if content.count < 0x80 { return [tag, UInt8(content.count)] + content }
            if content.count < 0x100 { return [tag, 0x81, UInt8(content.count)] + content }
            return [tag, 0x82, UInt8(content.count >> 8), UInt8(content.count & 0xFF)] + content
        }
        let integer = serial.first.map { $0 & 0x80 != 0 } == true ? [0] + serial : serial
        let certID = element(0x30, [0x30, 0x09, 0x06, 0x05, 0x2B, 0x0E, 0x03, 0x02, 0x1A, 0x05, 0x00]
                             + element(0x04, nameHash) + element(0x04, keyHash) + element(0x02, integer))
        var tbs = element(0x30, element(0x30, certID))
        if let nonce {
            let nonceExtension = element(0x30, [0x06, 0x09, 0x2B, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x02] + element(0x04, element(0x04, nonce)))
            tbs += element(0xA2, element(0x30, nonceExtension))
        }
        return element(0x30, element(0x30, tbs))
    }
}
