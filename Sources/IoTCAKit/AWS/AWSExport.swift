import Crypto
import Foundation
import X509

/// `iotca aws export`: the files the AWS CLI takes (`--cli-input-json file://...`) to register
/// a CA of the store with AWS IoT Core, provision its devices just in time, register the
/// certificates already issued one by one or in bulk, and revoke there what was revoked here.
/// Everything is built and checked against AWS's limits first; only then is a file written.
public struct AWSExport: Sendable {
    public enum Registration: Sendable, Equatable {
        /// The verification certificate proves the CA key to the account (CN = the code).
        case registrationCode(String)
        /// Multi-account registration: no verification certificate, devices must send SNI.
        case sniOnly
    }

    public enum Selection: Sendable, Equatable {
        case none
        case all
        case things([String])
    }

    public var ca = "issuing"
    public var registration: Registration?
    public var roleARN: String?
    public var policyName: String?
    /// The template whose certificates JITP provisions (its subject decides the parameters).
    public var template = "device"
    public var selection = Selection.none
    /// Write `update-certificate` inputs for certificates revoked since the last such export.
    public var revocations = false

    public init() {}

    /// The files, relative to the export folder, and what they are for.
    public struct Plan: Sendable {
        public var files: [(path: String, bytes: [UInt8])] = []
        /// The commands to run, in order (also in README.txt).
        public var commands: [String] = []
        /// With revocations: the mark to record once the files are written.
        var revocationMark: (key: String, value: String)?
    }

    /// Builds every file in memory and checks it. - Throws: `AWSExportError`, `AuthorityError`,
    /// `PolicyError`, `CertificateNotFound`, `StoreError`.
    func plan(authority front: CertificateAuthority) throws -> Plan {
        let store = front.store
        guard registration != nil || selection != .none || revocations else { throw AWSExportError.nothingToExport }
        let authority = try store.authority(named: ca)
        guard let caDER = authority.certificateDER else { throw AuthorityError.pending(ca) }
        let caPEM = IssuedCertificate.pem(caDER)
        try AWSLimits.checkCertificatePEM(caPEM, name: "the certificate of CA \(ca)")
        if let roleARN { try AWSLimits.checkRoleARN(roleARN) }
        if let policyName { try AWSLimits.checkPolicyName(policyName) }
        let template = try front.template(named: self.template)
        var plan = Plan()
        var readme = ["Files for the AWS CLI, written by iotca's aws export for CA \(ca); run from this folder:", ""]

        var parameters: [AWSProvisioningTemplate.Parameter] = [AWSProvisioningTemplate.id]
        if let registration {
            var request: [String: AWSJSON] = ["caCertificate": .string(caPEM), "setAsActive": .bool(true), "allowAutoRegistration": .bool(true)]
            switch registration {
            case .registrationCode(let code):
                let verification = try verificationCertificate(front, code: code)
                request["verificationCertificate"] = .string(verification)
            case .sniOnly:
                request["certificateMode"] = .string("SNI_ONLY")
            }
            if let roleARN {
                parameters = try AWSProvisioningTemplate.parameters(of: template)
                let body = AWSProvisioningTemplate.jitp(parameters, policy: policyName).compact
                try AWSLimits.checkTemplateBody(body, name: "the JITP template body")
                request["registrationConfig"] = .object(["templateBody": .string(body), "roleArn": .string(roleARN)])
            }
            plan.files.append(("register-ca-certificate.json", AWSJSON.object(request).pretty))
            plan.commands.append("aws iot register-ca-certificate --cli-input-json file://register-ca-certificate.json")
        }

        let certificates = try selected(store)
        if !certificates.isEmpty {
            var lines: [String] = []
            for entry in certificates {
                let thing = entry.thing ?? ""
                try AWSLimits.checkThingName(thing)
                guard entry.authority == ca else { throw AWSExportError.notIssuedBy(thing: thing, ca: ca, issuer: entry.authority) }
                let pem = entry.pem
                try AWSLimits.checkCertificatePEM(pem, name: "the certificate of \(thing)")
                if entry.template == template.name, let missing = AWSProvisioningTemplate.missing(parameters, in: try Certificate(derEncoded: entry.der)) {
                    throw AWSExportError.certificateLacksParameter(thing: thing, parameter: missing.reference)
                }
                plan.files.append(("register-certificate/\(thing).json", AWSJSON.object([
                    "certificatePem": .string(pem), "caCertificatePem": .string(caPEM), "status": .string("ACTIVE"),
                ]).pretty))
                lines.append(AWSJSON.object(["ThingName": .string(thing), "CertificatePem": .string(pem)]).compact)
            }
            let body = AWSProvisioningTemplate.bulk(policy: policyName)
            try AWSLimits.checkTemplateBody(body.compact, name: "the bulk provisioning template body")
            plan.files.append(("bulk/provisioning-template.json", body.pretty))
            plan.files.append(("bulk/things.ndjson", Array((lines.joined(separator: "\n") + "\n").utf8)))
            plan.commands.append("for f in register-certificate/*.json; do aws iot register-certificate --cli-input-json \"file://$f\"; done")
            plan.commands.append("# or, all at once (one task per account at a time): put the NDJSON in S3, then")
            plan.commands.append("aws s3 cp bulk/things.ndjson s3://BUCKET/things.ndjson")
            plan.commands.append("aws iot start-thing-registration-task --template-body file://bulk/provisioning-template.json --input-file-bucket BUCKET --input-file-key things.ndjson --role-arn \(roleARN ?? "ROLE_ARN")")
        }

        if revocations {
            let key = "aws_revocations_exported.\(ca)"
            let since = try store.setting(key).flatMap(Double.init).map { Date(timeIntervalSince1970: $0) } ?? .distantPast
            let revoked = try store.certificates(CertificateFilter(status: .revoked, authority: ca))
                .filter { ($0.revokedAt ?? .distantPast) > since }
            for entry in revoked {
                let id = Array(SHA256.hash(data: entry.der)).hexString
                plan.files.append(("revocations/\(id).json", AWSJSON.object(["certificateId": .string(id), "newStatus": .string("REVOKED")]).pretty))
            }
            if let last = revoked.compactMap(\.revokedAt).max() {
                plan.revocationMark = (key, String(last.timeIntervalSince1970))
            }
            plan.commands.append(revoked.isEmpty ? "# no certificate of \(ca) was revoked since the last export"
                                 : "for f in revocations/*.json; do aws iot update-certificate --cli-input-json \"file://$f\"; done")
        }
        readme += plan.commands + [""]
        plan.files.append(("README.txt", Array(readme.joined(separator: "\n").utf8)))
        return plan
    }

    /// The certificates to register: each selected thing's newest active certificate (a thing
    /// renewing over EST holds two for a grace period; AWS gets the one that stays), in name order.
    private func selected(_ store: Store) throws -> [CertificateEntry] {
        switch selection {
        case .none:
            return []
        case .all:
            var newest: [String: CertificateEntry] = [:]
            for entry in try store.certificates(CertificateFilter(status: .active, authority: ca)) {
                newest[entry.thing ?? ""] = entry  // recorded order: the last is the newest
            }
            return newest.keys.sorted().compactMap { newest[$0] }
        case .things(let things):
            return try Set(things).sorted().map { thing throws -> CertificateEntry in
                try AWSLimits.checkThingName(thing)
                guard let active = try store.certificates(CertificateFilter(thing: thing, status: .active)).last else {
                    throw CertificateNotFound(selector: thing)
                }
                return active
            }
        }
    }

    /// The verification certificate for `code`, made once and recorded: a re-run reuses it
    /// while it has a day left, so the same export writes the same files.
    private func verificationCertificate(_ front: CertificateAuthority, code: String) throws -> String {
        let store = front.store
        let key = "aws_verification.\(ca).\(code)"
        if let serial = try store.setting(key).flatMap(SerialNumber.init(hex:)),
           let entry = try store.certificates(serial: serial).first(where: { $0.authority == ca && $0.status == .active }),
           entry.notAfter > store.clock.now().addingTimeInterval(86_400) {
            return entry.pem
        }
        let issued = try front.verificationCertificate(ca: ca, registrationCode: code)
        try store.setSetting(key, issued.serial.hex)
        return issued.pem
    }

    /// Builds, checks, then writes every file into `folder` (made when missing), each replaced
    /// atomically; records the revocation mark last, so a run killed half-way exports the same
    /// revocations again. - Returns: the plan written.
    public func write(authority: CertificateAuthority, to folder: URL) throws -> Plan {
        let plan = try self.plan(authority: authority)
        for (path, bytes) in plan.files {
            let url = folder.appendingPathComponent(path)
            do {
                try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            } catch {
                throw OutputError.writeFailed(path: url.deletingLastPathComponent().path, detail: error.localizedDescription)
            }
            try AtomicFile.write(bytes, to: url)
        }
        if let mark = plan.revocationMark { try authority.store.setSetting(mark.key, mark.value) }
        return plan
    }
}

extension CertificateAuthority {
    /// `aws export`. - Throws: see `AWSExport.plan`, `OutputError`.
    public func exportToAWS(_ export: AWSExport, to folder: URL) throws -> AWSExport.Plan {
        try export.write(authority: self, to: folder)
    }
}
