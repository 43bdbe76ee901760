import Foundation
import Hummingbird
import IoTCAKit

/// `/v1` revocation, delivery confirmation and CRL publication.
extension APIRoutes {
    struct RevokeBody: Decodable {
        let reason: String?
        let invalidityDate: String?
        let ca: String?
        enum CodingKeys: String, CodingKey {
            case reason, ca
            case invalidityDate = "invalidity_date"
        }
    }

    struct RevokeAnswer: Encodable {
        let revoked: [CertificateEntry]
        let published: [CRLRecord]
    }

    func revoke(_ request: Request, _ context: APIContext) async throws -> Response {
        let client = try context.requireClient()
        let target: RevocationTarget
        let body = try await JSONBody.decode(RevokeBody.self, from: request, limit: bodyLimit, emptyIsObject: true)
        if let thing = context.parameters.get("thing") {
            target = .thing(thing)
        } else {
            let serialText = try context.parameters.require("serial")
            guard let serial = SerialNumber(hex: serialText) else { throw Problem(.badRequest, detail: "\(serialText) is not a serial in hex") }
            target = .serial(serial, authority: body.ca)
        }
        guard let reason = RevocationReason(rawValue: body.reason ?? "unspecified") else {
            throw Problem(.badRequest, detail: "reason must be one of \(RevocationReason.namesForHelp)")
        }
        let invalidity = try body.invalidityDate.map { text in try Self.time(text, field: "invalidity_date") }
        let outcome = try await workers.run(client: client.auditName) {
            try $0.revoke(target, reason: reason, invalidityDate: invalidity, caller: client.caller)
        }
        metrics.revoked(count: outcome.revoked.count)
        metrics.published(count: outcome.published.count)
        return try JSONBody.response(RevokeAnswer(revoked: outcome.revoked, published: outcome.published))
    }

    struct DeliveredBody: Decodable {
        let thing: String
        let supersede: Bool?
    }

    struct DeliveredAnswer: Encodable {
        let serial: String
        let superseded: [String]
    }

    /// The client has the bundle on its disk: `written`, and with `supersede` the thing's older
    /// certificates are revoked now.
    func delivered(_ request: Request, _ context: APIContext) async throws -> Response {
        let client = try context.requireClient()
        let serialText = try context.parameters.require("serial")
        guard let serial = SerialNumber(hex: serialText) else { throw Problem(.badRequest, detail: "\(serialText) is not a serial in hex") }
        let body = try await JSONBody.decode(DeliveredBody.self, from: request, limit: bodyLimit)
        let supersede = body.supersede ?? false
        let superseded = try await workers.run(client: client.auditName) { authority -> [SerialNumber] in
            guard let entry = try authority.store.certificates(serial: serial).first(where: { $0.thing == body.thing }) else {
                throw CertificateNotFound(selector: serial.hex)
            }
            guard client.mayRead(entry) else {
                throw Problem(.forbidden, detail: "\(client.name) may not confirm certificates of \(body.thing)")
            }
            return try authority.confirmDelivery(thing: body.thing, serial: serial, supersede: supersede, caller: client.caller)
        }
        if !superseded.isEmpty { metrics.revoked(count: superseded.count) }
        return try JSONBody.response(DeliveredAnswer(serial: serial.hex, superseded: superseded.map(\.hex)))
    }

    struct PublishBody: Decodable {
        let cas: [String]?
        let ifDue: Bool?
        enum CodingKeys: String, CodingKey {
            case cas
            case ifDue = "if_due"
        }
    }

    func publish(_ request: Request, _ context: APIContext) async throws -> Response {
        let client = try context.requireClient()
        let body = try await JSONBody.decode(PublishBody.self, from: request, limit: bodyLimit, emptyIsObject: true)
        let records = try await workers.run(client: client.auditName) {
            try $0.publishCRLs(of: body.cas ?? [], ifDue: body.ifDue ?? false, caller: client.caller)
        }
        metrics.published(count: records.count)
        return try JSONBody.response(records)
    }
}
