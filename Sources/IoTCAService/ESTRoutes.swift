import Foundation
import HTTPTypes
import Hummingbird
import IoTCAKit
import NIOCore
import X509

/// EST (RFC 7030, with RFC 8951's reading of base64) on the API listener, beside `/v1` but not
/// behind its client check: devices are not stations. `/.well-known/est/[LABEL/]` with
/// `cacerts`, `csrattrs`, `simpleenroll` and `simplereenroll`; the optional label names the
/// template. Enrolment proves itself with a one-time token over HTTP Basic (username = thing,
/// password = the secret; only ever over this TLS listener); re-enrolment with the device's
/// current certificate in the TLS handshake.
struct ESTRoutes {
    let workers: Workers
    let metrics: ServiceMetrics
    let peers: PeerCertificates
    let authenticator: ClientAuthenticator
    /// Failed token attempts per source address: a guesser gets `failureBurst` tries, then one
    /// every `1 / failureRefill` seconds (429 with Retry-After meanwhile, for every attempt).
    let failures: RateLimiter
    static let failureBurst: Double = 10
    static let failureRefill: Double = 1.0 / 6
    /// A base64 PKCS#10 is a few hundred bytes; an RSA-4096 one under 3 KB.
    static let bodyLimit = 64 * 1024

    func add(to router: Router<APIContext>) {
        for base in [".well-known/est", ".well-known/est/:label"] {
            let group = router.group(RouterPath(base))
            group.get("cacerts") { _, context in try await cacerts(context) }
            group.get("csrattrs") { _, context in try await csrattrs(context) }
            group.post("simpleenroll") { request, context in try await enroll(request, context) }
            group.post("simplereenroll") { request, context in try await reenroll(request, context) }
        }
    }

    /// The label, when the path has one: the name of a template of the store (404 otherwise:
    /// a label is never read as a path).
    private func label(_ context: APIContext) async throws -> String? {
        guard let label = context.parameters.get("label") else { return nil }
        _ = try await workers.run { try $0.template(named: label) }
        return label
    }

    private func cacerts(_ context: APIContext) async throws -> Response {
        _ = try await label(context)
        let chain = try await workers.run { try $0.chain(of: "issuing") }
        // The issuing CA first, then up to the root (RFC 7030 4.1.3 leaves the order open).
        return Self.base64(CertsOnlyCMS.encode(chain.intermediates + [chain.root]), contentType: "application/pkcs7-mime")
    }

    private func csrattrs(_ context: APIContext) async throws -> Response {
        let template = try await label(context) ?? "device"
        let keyType = try await workers.run { try $0.template(named: template).keyType }
        return Self.base64(Self.csrAttributes(keyType), contentType: "application/csrattrs")
    }

    private func enroll(_ request: Request, _ context: APIContext) async throws -> Response {
        let label = try await label(context)
        let csr = try await Self.requestBody(request)
        guard let (thing, secret) = Self.basicCredentials(request.headers) else {
            // Without a token, a claim certificate in the TLS handshake (fleet provisioning by claim).
            guard let presented = try await peers.presented(on: context.channel) else {
                return Self.askForCredentials("simpleenroll needs HTTP Basic credentials (the thing name and its enrolment token) or a claim certificate")
            }
            try await authenticator.validateChain(presented, to: .service)
            do {
                let result = try await workers.run { try $0.enrol(claim: presented.der, csr: csr, template: label) }
                metrics.issued(template: result.entry.template, keySource: "est-claim")
                return Self.issued(result)
            } catch let error as EnrolmentError {
                throw Problem(.forbidden, detail: error.description)
            } catch let error as PolicyError {
                // Outside the claim's grants is a refusal of who asks, not of the request.
                if case .invalidValue = error { throw Problem(.forbidden, detail: error.description) }
                throw error
            }
        }
        let source = Self.sourceAddress(context)
        if let wait = failures.wait(source) {
            metrics.estRefused("rate_limited")
            throw Problem(.rateLimited, detail: "too many failed enrolments from \(source); retry in \(wait) s", retryAfter: wait)
        }
        do {
            let result = try await workers.run(client: "est:\(thing)") { try $0.enrol(thing: thing, secret: secret, csr: csr, template: label) }
            metrics.issued(template: result.entry.template, keySource: "est")
            return Self.issued(result)
        } catch let error as EnrolmentError {
            _ = failures.take(source)
            metrics.estRefused("failed")
            return Self.askForCredentials(error.description)
        }
    }

    private func reenroll(_ request: Request, _ context: APIContext) async throws -> Response {
        let label = try await label(context)
        let csr = try await Self.requestBody(request)
        guard let presented = try await peers.presented(on: context.channel) else {
            throw Problem(.unauthenticated, detail: "simplereenroll needs the certificate being renewed in the TLS handshake")
        }
        try await authenticator.validateChain(presented, to: .store)
        do {
            let result = try await workers.run(client: "est:reenroll") { try $0.reenrol(current: presented.der, csr: csr, template: label) }
            metrics.issued(template: result.entry.template, keySource: "est-renewal")
            return Self.issued(result)
        } catch let error as EnrolmentError {
            switch error {
            case .subjectMismatch: throw Problem(.badRequest, detail: error.description)
            default: throw Problem(.forbidden, detail: error.description)
            }
        }
    }

    /// Whom failed attempts are counted against: the peer's address (no port).
    static func sourceAddress(_ context: APIContext) -> String {
        context.channel.remoteAddress?.ipAddress ?? "unknown"
    }

    /// The request body: base64 (line breaks allowed, RFC 8951: whatever the
    /// Content-Transfer-Encoding says), or DER sent as is.
    static func requestBody(_ request: Request) async throws -> [UInt8] {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: bodyLimit)
        } catch is NIOTooManyBytesError {
            throw Problem(.tooLarge, detail: "the request is larger than \(bodyLimit) bytes")
        }
        let bytes = Array(buffer.readableBytesView)
        if bytes.first == 0x30 { return bytes }
        let text = String(decoding: bytes.filter { !$0.isASCIIWhitespace }, as: UTF8.self)
        guard let decoded = Data(base64Encoded: text), !decoded.isEmpty else {
            throw Problem(.badRequest, detail: "send the PKCS#10 request base64-encoded (application/pkcs10)")
        }
        return Array(decoded)
    }

    /// `Authorization: Basic` as (username, password).
    static func basicCredentials(_ headers: HTTPFields) -> (String, String)? {
        guard let value = headers[.authorization], value.lowercased().hasPrefix("basic "),
              let decoded = Data(base64Encoded: String(value.dropFirst(6)).trimmingCharacters(in: .whitespaces)),
              let text = String(data: decoded, encoding: .utf8), let colon = text.firstIndex(of: ":") else { return nil }
        return (String(text[..<colon]), String(text[text.index(after: colon)...]))
    }

    /// 401 with the challenge RFC 7030 3.2.3 points to.
    static func askForCredentials(_ detail: String) -> Response {
        var response = ProblemMiddleware<APIContext>.response(Problem(.unauthenticated, detail: detail))
        response.headers[.wwwAuthenticate] = "Basic realm=\"iotca EST\", charset=\"UTF-8\""
        return response
    }

    /// An EST body: base64 in 64-character lines, with the Content-Transfer-Encoding old
    /// clients look for (RFC 8951 2.1).
    static func base64(_ der: [UInt8], contentType: String) -> Response {
        let text = Data(der).base64EncodedString(options: .lineLength64Characters).replacingOccurrences(of: "\r\n", with: "\n") + "\n"
        var headers: HTTPFields = [.contentType: contentType]
        headers[HTTPField.Name("Content-Transfer-Encoding")!] = "base64"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// The new certificate alone, as RFC 7030 4.2.3 answers an enrolment.
    static func issued(_ result: IssueResult) -> Response {
        base64(CertsOnlyCMS.encode([result.entry.der]), contentType: "application/pkcs7-mime; smime-type=certs-only")
    }

    /// CsrAttrs (RFC 7030 4.5.2): the signature algorithm and key the template wants.
    static func csrAttributes(_ keyType: KeyAlgorithm) -> [UInt8] {
        let oids: [[UInt8]]
        switch keyType {
        case .ecP256: oids = [[0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x03, 0x02], [0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07]]  // ecdsa-with-SHA256, prime256v1
        case .ecP384: oids = [[0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x04, 0x03, 0x03], [0x2B, 0x81, 0x04, 0x00, 0x22]]  // ecdsa-with-SHA384, secp384r1
        case .ed25519: oids = [[0x2B, 0x65, 0x70]]  // id-Ed25519
        default: oids = [[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x0B]]  // sha256WithRSAEncryption
        }
        var content: [UInt8] = []
        for oid in oids { content += [0x06, UInt8(oid.count)] + oid }
        return [0x30, UInt8(content.count)] + content
    }
}

extension UInt8 {
    fileprivate var isASCIIWhitespace: Bool { self == 0x20 || self == 0x09 || self == 0x0A || self == 0x0D }
}
