import AsyncHTTPClient
import Foundation
import IoTCAKit
import NIOCore
import NIOHTTP1
import NIOSSL

/// The CLI's side of the API: one HTTPS client with the station's or operator's certificate,
/// trusting only the given CA for the server, keeping connections alive across calls. Every
/// refusal comes back as `ServiceError.refused(problem)`, whose kind is the library's, so the
/// CLI exits with the same status it would have locally.
public final class APIClient: Sendable {
    public struct Settings: Sendable {
        public var url: String
        public var clientCertificate: String
        public var clientKey: String
        public var serverCA: String

        public init(url: String, clientCertificate: String, clientKey: String, serverCA: String) {
            self.url = url.hasSuffix("/") ? String(url.dropLast()) : url
            self.clientCertificate = clientCertificate
            self.clientKey = clientKey
            self.serverCA = serverCA
        }
    }

    public let settings: Settings
    private let http: HTTPClient
    private static let answerLimit = 64 * 1024 * 1024

    /// - Throws: `ServiceError.tlsFiles` when the certificate, key or CA cannot be read.
    /// `requireHTTPS` false lets a load generator speak plain HTTP to another server too.
    public init(_ settings: Settings, connections: Int = 8, requireHTTPS: Bool = true) throws {
        guard !requireHTTPS || settings.url.lowercased().hasPrefix("https://") else {
            throw ServiceError.invalidConfiguration("server URL \(settings.url)", reason: "the API is served over https://")
        }
        self.settings = settings
        var tls = TLSConfiguration.makeClientConfiguration()
        do {
            tls.certificateChain = try NIOSSLCertificate.fromPEMFile(settings.clientCertificate).map { .certificate($0) }
            tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: settings.clientKey, format: .pem))
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(settings.serverCA))
        } catch {
            throw ServiceError.tlsFiles("\(settings.clientCertificate), \(settings.clientKey), \(settings.serverCA): \(error)")
        }
        tls.minimumTLSVersion = .tlsv12
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls, timeout: .init(connect: .seconds(10), read: .seconds(120)))
        configuration.connectionPool = .init(idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: max(1, connections))
        // A server that is down fails the call at once instead of after the connect timeout of
        // every queued request: a factory script learns in a second and re-runs.
        configuration.connectionPool.retryConnectionEstablishment = false
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    public func shutdown() async {
        try? await http.shutdown()
    }

    /// One request with a JSON body as bytes, the answer's status and bytes as they came: for a
    /// load generator, which should spend its CPU on sending, not on decoding answers.
    public func exchange(_ method: HTTPMethod, _ path: String, json: [UInt8]?, body: [UInt8]? = nil,
                         headers: [(String, String)] = []) async throws -> (status: Int, body: ByteBuffer) {
        var request = HTTPClientRequest(url: settings.url + path)
        request.method = method
        if let json {
            request.headers.add(name: "content-type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: json))
        } else if let body {
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        let response = try await http.execute(request, timeout: .seconds(120))
        return (Int(response.status.code), try await response.body.collect(upTo: Self.answerLimit))
    }

    // MARK: Calls

    /// What `POST /v1/certificates` answers: `--format json`'s object, the record, and the
    /// serials superseded.
    public struct Issued: Decodable, Sendable {
        public let bundle: IoTCAKit.Bundle.JSONForm
        public let certificate: CertificateEntry
        public let superseded: [String]

        enum Keys: String, CodingKey { case certificate, superseded }

        public init(from decoder: any Decoder) throws {
            bundle = try IoTCAKit.Bundle.JSONForm(from: decoder)
            let container = try decoder.container(keyedBy: Keys.self)
            certificate = try container.decode(CertificateEntry.self, forKey: .certificate)
            superseded = try container.decodeIfPresent([String].self, forKey: .superseded) ?? []
        }
    }

    public struct IssueCall: Encodable, Sendable {
        public var thing: String
        public var template: String?
        public var ca: String?
        public var csr: String?
        public var validity: String?
        public var subjectAltNames: [String]?
        public var attributes: [String: String]?
        public var renew: Bool?
        public var deliveryTarget: String?
        public var recover: Bool?

        public init(thing: String) { self.thing = thing }

        enum CodingKeys: String, CodingKey {
            case thing, template, ca, csr, validity, attributes, renew, recover
            case subjectAltNames = "subject_alt_names"
            case deliveryTarget = "delivery_target"
        }
    }

    public struct Whoami: Decodable, Sendable {
        public let role: String
        public let name: String
        public let serial: String
    }

    /// Who the server takes this client to be (the cheapest authenticated request).
    public func whoami() async throws -> Whoami {
        try await send(.GET, "/v1/whoami")
    }

    public func issue(_ call: IssueCall) async throws -> Issued {
        try await send(.POST, "/v1/certificates", body: call)
    }

    struct DeliveredCall: Encodable {
        let thing: String
        let supersede: Bool
    }

    struct Delivered: Decodable {
        let superseded: [String]
    }

    /// The bundle of `serial` is on this machine's disk. Returns the serials superseded.
    public func delivered(_ serial: String, thing: String, supersede: Bool) async throws -> [String] {
        let answer: Delivered = try await send(.POST, "/v1/certificates/\(serial)/delivered", body: DeliveredCall(thing: thing, supersede: supersede))
        return answer.superseded
    }

    public struct Revoked: Decodable, Sendable {
        public let revoked: [CertificateEntry]
        public let published: [CRLRecord]
    }

    struct RevokeCall: Encodable {
        let reason: String
        let invalidityDate: String?
        let ca: String?
        enum CodingKeys: String, CodingKey {
            case reason, ca
            case invalidityDate = "invalidity_date"
        }
    }

    public func revoke(_ target: RevocationTarget, reason: RevocationReason, invalidityDate: Date?) async throws -> Revoked {
        let path: String, ca: String?
        switch target {
        case .serial(let serial, let authority): (path, ca) = ("/v1/certificates/\(serial.hex)/revoke", authority)
        case .thing(let thing): (path, ca) = ("/v1/things/\(Self.escape(thing))/revoke", nil)
        }
        return try await send(.POST, path, body: RevokeCall(reason: reason.rawValue, invalidityDate: invalidityDate.map(Timestamp.format), ca: ca))
    }

    struct Page: Decodable {
        let certificates: [CertificateEntry]
        let next: String?
    }

    /// Every certificate the filter selects, page by page (at most 10,000 pages).
    public func certificates(_ filter: CertificateFilter) async throws -> [CertificateEntry] {
        var all: [CertificateEntry] = []
        try await forEachCertificate(filter) { all.append($0) }
        return all
    }

    /// Each certificate the server lets this client read, a page (1,000) at a time, following
    /// the server's cursor: a fleet's list is never held whole.
    public func forEachCertificate(_ filter: CertificateFilter, _ body: (CertificateEntry) throws -> Void) async throws {
        var query: [(String, String)] = [("limit", "1000")]
        if let thing = filter.thing { query.append(("thing", thing)) }
        if let status = filter.status { query.append(("status", status.rawValue)) }
        if let ca = filter.authority { query.append(("ca", ca)) }
        if let template = filter.template { query.append(("template", template)) }
        var after: String?
        // Bounded: ten billion certificates at most, far past any store.
        for _ in 0..<10_000_000 {
            let page: Page = try await send(.GET, "/v1/certificates" + Self.query(query + (after.map { [("after", $0)] } ?? [])))
            // Filtered here too: a server from before `template` ignores it. (Expiring ones come
            // in the recorded order here, not soonest first: the server pages by record.)
            for entry in page.certificates where filter.expiringBefore.map({ entry.notAfter <= $0 }) ?? true
                && filter.template.map({ entry.template == $0 }) ?? true {
                try body(entry)
            }
            guard let next = page.next else { return }
            after = next
        }
    }

    struct Thing: Decodable {
        let certificates: [CertificateEntry]
    }

    /// By serial (with its PEM), else the thing's newest active certificate (newest of all when none is active).
    public func certificate(matching selector: String) async throws -> CertificateEntry {
        if SerialNumber(hex: selector) != nil {
            do {
                return try await send(.GET, "/v1/certificates/\(selector)")
            } catch ServiceError.refused(let problem) where problem.status == 404 && problem.name == .notFound {
                // Not a serial after all: a thing whose name looks like hex.
            }
        }
        let thing: Thing = try await send(.GET, "/v1/things/\(Self.escape(selector))")
        guard let newest = thing.certificates.last(where: { $0.status == .active }) ?? thing.certificates.last else {
            throw CertificateNotFound(selector: selector)
        }
        return try await send(.GET, "/v1/certificates/\(newest.serial.hex)")
    }

    public func pins(of names: [String]) async throws -> [Pin] {
        try await send(.GET, "/v1/pins" + Self.query(names.map { ("ca", $0) }))
    }

    // MARK: Transport

    private struct Empty: Encodable {}

    private func send<Answer: Decodable>(_ method: HTTPMethod, _ path: String) async throws -> Answer {
        try await send(method, path, body: Optional<Empty>.none)
    }

    private func send<Answer: Decodable, Body: Encodable>(_ method: HTTPMethod, _ path: String, body: Body?) async throws -> Answer {
        var request = HTTPClientRequest(url: settings.url + path)
        request.method = method
        request.headers.add(name: "accept", value: "application/json")
        if let body {
            request.headers.add(name: "content-type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try JSONEncoder().encode(body)))
        }
        let response: HTTPClientResponse
        let bytes: ByteBuffer
        do {
            response = try await http.execute(request, timeout: .seconds(120))
            bytes = try await response.body.collect(upTo: Self.answerLimit)
        } catch {
            throw ServiceError.unreachable(url: settings.url, reason: Self.describe(error, serverCA: settings.serverCA))
        }
        let data = Data(bytes.readableBytesView)
        let contentType = response.headers.first(name: "content-type") ?? ""
        guard (200..<300).contains(Int(response.status.code)) else {
            if contentType.hasPrefix("application/problem+json"), let problem = try? JSONDecoder().decode(Problem.self, from: data) {
                throw ServiceError.refused(problem)
            }
            throw ServiceError.unexpectedAnswer(status: Int(response.status.code), detail: String(decoding: data.prefix(200), as: UTF8.self))
        }
        do {
            return try JSONDecoder.iotca.decode(Answer.self, from: data)
        } catch {
            throw ServiceError.unexpectedAnswer(status: Int(response.status.code), detail: "\(error)")
        }
    }

    /// What a person can act on: TLS failures named as such. A server certificate that does not
    /// verify is the identity check refusing the server: it is not the API this client trusts.
    private static func describe(_ error: any Error, serverCA: String) -> String {
        let text = String(describing: error)
        if text.contains("CERTIFICATE_VERIFY_FAILED") || text.contains("unableToValidateCertificate") || text.contains("certificate verify") {
            return "the server is not the iotca API this client trusts: its TLS certificate does not verify against \(serverCA) (the service root of the client bundle) (\(text))"
        }
        if text.contains("handshake") || text.contains("SSL") || text.contains("certificate") {
            return "TLS failed (\(text)); check --server-ca (the service root: root.pem of the client bundle) and the client certificate"
        }
        if text.contains("connect") || text.contains("refused") { return "connection failed (\(text))" }
        return text
    }

    static func escape(_ segment: String) -> String {
        segment.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? segment
    }

    static func query(_ items: [(String, String)]) -> String {
        guard !items.isEmpty else { return "" }
        return "?" + items.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0.1)" }.joined(separator: "&")
    }
}
