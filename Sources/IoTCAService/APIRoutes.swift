import Foundation
import Hummingbird
import IoTCAKit

/// The JSON API under `/v1`: one request, one library operation (the same ones the CLI calls),
/// run on a worker thread with the client named in every audit event it writes.
struct APIRoutes {
    let workers: Workers
    let metrics: ServiceMetrics
    let bodyLimit: Int
    /// Every /v1 route runs behind the client check.
    let authentication: AuthenticationMiddleware

    func add(to router: Router<APIContext>) {
        let v1 = router.group("v1").add(middleware: authentication)
        v1.get("whoami") { _, context in try JSONBody.response(try context.requireClient()) }
        v1.post("certificates") { request, context in try await issue(request, context) }
        v1.get("certificates") { request, context in try await list(request, context) }
        v1.get("certificates/:serial") { _, context in try await show(context) }
        v1.post("certificates/:serial/revoke") { request, context in try await revoke(request, context) }
        v1.post("certificates/:serial/delivered") { request, context in try await delivered(request, context) }
        v1.post("things/:thing/revoke") { request, context in try await revoke(request, context) }
        v1.get("things/:thing") { _, context in try await thing(context) }
        v1.post("crls") { request, context in try await publish(request, context) }
        v1.get("cas") { _, context in
            let client = try context.requireClient()
            let authorities = try await workers.run(client: client.auditName) { try $0.listAuthorities() }
            // A station sees what identifies each CA, not where its key lives or what it runs.
            if client.caller.isOperator { return try JSONBody.response(authorities) }
            return try JSONBody.response(authorities.map(Authority.PublicView.init))
        }
        v1.get("pins") { request, context in
            let client = try context.requireClient()
            let names = request.uri.queryParameters.getAll("ca").map { String($0) }
            return try JSONBody.response(try await workers.run(client: client.auditName) { try $0.pins(of: names) })
        }
        v1.get("templates") { _, context in
            let client = try context.requireClient()
            return try JSONBody.response(try await workers.run(client: client.auditName) { $0.templates() })
        }
        v1.get("audit") { request, context in
            let client = try context.requireClient()
            let since = try request.uri.queryParameters.get("since").map { text in try Self.time(String(text), field: "since") }
            return try await AuditResponse.make(workers: workers, client: client, since: since)
        }
    }

    /// A time the request carries: one that is no RFC 3339 time is a malformed request (400),
    /// not a request policy refuses.
    static func time(_ text: String, field: String) throws -> Date {
        do {
            return try Timestamp.parse(text, option: field)
        } catch {
            throw Problem(.badRequest, detail: error.description)
        }
    }

    // MARK: Issuance

    struct IssueBody: Decodable {
        let thing: String
        let template: String?
        let ca: String?
        /// PKCS#10, PEM; without it the server generates the key and returns it.
        let csr: String?
        let validity: String?
        let subjectAltNames: [String]?
        let attributes: [String: String]?
        let renew: Bool?
        let supersede: Bool?
        /// Where the caller writes the bundle (the iotca client sends `FORMAT:PATH`): then the
        /// certificate stays `recorded` until the caller confirms it (`.../delivered`).
        let deliveryTarget: String?
        /// With a delivery target: issue again if the thing's active certificates are all
        /// unconfirmed ones for that same target (a killed client's re-run).
        let recover: Bool?

        enum CodingKeys: String, CodingKey {
            case thing, template, ca, csr, validity, attributes, renew, supersede, recover
            case subjectAltNames = "subject_alt_names"
            case deliveryTarget = "delivery_target"
        }
    }

    /// `--format json`'s object, plus the record (as `show --json`) and the serials superseded.
    struct IssueAnswer: Encodable {
        let bundle: IoTCAKit.Bundle.JSONForm
        let certificate: CertificateEntry
        let superseded: [String]

        func encode(to encoder: any Encoder) throws {
            try bundle.encode(to: encoder)
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode(certificate, forKey: .certificate)
            try container.encode(superseded, forKey: .superseded)
        }

        enum Keys: String, CodingKey { case certificate, superseded }

        /// The answer as `encode(to:)` under `JSONEncoder.iotcaCompact` writes it, built as
        /// bytes: the answer to every issuance, where JSONEncoder cost a tenth of the request.
        var compactJSON: [UInt8] {
            var writer = JSONObjectWriter(capacity: 4_096)
            writer.json("certificate", certificate.compactJSON)
            writer.text("certificate_pem", bundle.certificate_pem)
            writer.text("chain_pem", bundle.chain_pem)
            writer.json("manifest", bundle.manifest.compactJSON)
            writer.textIfPresent("private_key_pem", bundle.private_key_pem)
            writer.text("root_pem", bundle.root_pem)
            writer.list("superseded", superseded)
            writer.text("thing", bundle.thing)
            return writer.finish()
        }
    }

    private func issue(_ request: Request, _ context: APIContext) async throws -> Response {
        let client = try context.requireClient()
        let body = try await JSONBody.decode(IssueBody.self, from: request, limit: bodyLimit)
        let template = body.template ?? "device"
        if body.supersede == true && body.renew != true {
            throw Problem(.badRequest, detail: "supersede goes with renew")
        }
        var planned = IssueRequest(
            thing: body.thing, authority: body.ca ?? "issuing", template: template,
            validity: try body.validity.map { text throws(PolicyError) in try ValidityPeriod(text) },
            subjectAltNames: try (body.subjectAltNames ?? []).map { text throws(PolicyError) in try SubjectAltName(text) },
            attributes: body.attributes ?? [:], csr: body.csr.map { Array($0.utf8) },
            renew: body.renew ?? false, supersede: body.supersede ?? false, caller: client.caller)
        // Read with this request's own standing, moments ago: the plan may skip its read of the CA.
        planned.factsEpoch = client.factsEpoch
        let issueRequest = planned
        let result: IssueResult
        if let target = body.deliveryTarget {
            guard target.utf8.count <= 4_096, !target.contains("\0") else { throw Problem(.badRequest, detail: "delivery_target is too long") }
            // Per client, so two stations writing to folders of the same name never recover each other's.
            // The name's colons escaped, so no station's name and target read as another's.
            let recorded = "api:\(client.name.replacingOccurrences(of: ":", with: "%3A")):\(target)"
            let recover = body.recover ?? false
            var deferred = issueRequest
            deferred.supersede = false  // at confirmation, once the caller has the new bundle
            let request = deferred
            result = try await workers.run(client: client.auditName) { try $0.issueForDelivery(request, target: recorded, recover: recover) }
        } else {
            result = try await workers.run(client: client.auditName) { authority in
                try authority.issue(issueRequest, into: URL(fileURLWithPath: "/"), format: .json)
            }
        }
        metrics.issued(template: template, keySource: body.csr == nil ? "generated" : "csr")
        if !result.superseded.isEmpty { metrics.revoked(count: result.superseded.count) }
        let answer = IssueAnswer(bundle: result.bundle.jsonForm, certificate: result.entry, superseded: result.superseded.map(\.hex))
        return JSONBody.response(json: answer.compactJSON, status: .created)
    }

    // MARK: Reading

    struct Page: Encodable {
        let certificates: [CertificateEntry]
        /// Pass as `after` for the next page; absent on the last one.
        let next: String?
    }

    private func list(_ request: Request, _ context: APIContext) async throws -> Response {
        let client = try context.requireClient()
        let query = request.uri.queryParameters
        var filter = CertificateFilter(thing: query.get("thing").map { String($0) }, authority: query.get("ca").map { String($0) },
                                       template: query.get("template").map { String($0) })
        if let status = query.get("status") {
            guard let parsed = CertificateEntry.Status(rawValue: String(status)) else {
                throw Problem(.badRequest, detail: "status must be active or revoked")
            }
            filter.status = parsed
        }
        let limit = try query.get("limit").map { text throws(Problem) -> Int in
            guard let value = Int(text), (1...1_000).contains(value) else { throw Problem(.badRequest, detail: "limit must be 1 to 1000") }
            return value
        } ?? 100
        if let after = query.get("after") {
            guard let serial = SerialNumber(hex: String(after)) else { throw Problem(.badRequest, detail: "after must be a serial in hex") }
            filter.after = serial
        }
        // Stations see what they could issue: filtered here, so a page may hold fewer than
        // `limit`; `next` still moves on.
        filter.limit = limit
        let chosen = filter
        let page = try await workers.run(client: client.auditName) { try $0.certificates(chosen) }
        return try JSONBody.response(Page(certificates: page.filter(client.mayRead),
                                          next: page.count == limit ? page.last?.serial.hex : nil))
    }

    private func show(_ context: APIContext) async throws -> Response {
        let client = try context.requireClient()
        let serial = try context.parameters.require("serial")
        guard let number = SerialNumber(hex: serial) else { throw Problem(.badRequest, detail: "\(serial) is not a serial in hex") }
        // By serial only: a thing named like hex ("beef") is not found here, as for revoke.
        let entry = try await workers.run(client: client.auditName) { try $0.certificate(serial: number) }
        guard client.mayRead(entry) else { throw Problem(.forbidden, detail: "\(client.name) may not read certificate \(serial)") }
        return try JSONBody.response(ShowAnswer(entry: entry))
    }

    /// The `--json` form of a certificate plus its PEM (`show --pem`).
    struct ShowAnswer: Encodable {
        let entry: CertificateEntry

        func encode(to encoder: any Encoder) throws {
            try entry.encode(to: encoder)
            var container = encoder.container(keyedBy: CertificateEntry.ExtraKeys.self)
            try container.encode(entry.pem, forKey: .certificatePEM)
        }
    }

    struct ThingAnswer: Encodable {
        let thing: String
        let certificates: [CertificateEntry]
    }

    private func thing(_ context: APIContext) async throws -> Response {
        let client = try context.requireClient()
        let thing = try context.parameters.require("thing")
        let entries = try await workers.run(client: client.auditName) { try $0.certificates(CertificateFilter(thing: thing)) }
        guard !entries.isEmpty else { throw CertificateNotFound(selector: thing) }
        let readable = entries.filter(client.mayRead)
        guard !readable.isEmpty else { throw Problem(.forbidden, detail: "\(client.name) may not read \(thing)'s certificates") }
        return try JSONBody.response(ThingAnswer(thing: thing, certificates: readable))
    }
}
