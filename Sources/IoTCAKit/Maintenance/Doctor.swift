import Crypto
import Foundation
import SwiftASN1
import X509

/// One thing `iotca doctor` found wrong.
public struct Finding: Sendable, Equatable, Encodable {
    public var check: String
    public var subject: String
    public var problem: String
}

/// `iotca doctor`: checks that the store is what it claims to be. Every certificate row against
/// its DER and its signature against its CA; every CA's published CRL against its record and key;
/// CRL numbers; the audit hash chain; file modes; and, given a bundle folder, that every bundle
/// there belongs to a recorded certificate.
public struct Doctor {
    public let store: Store

    public init(store: Store) { self.store = store }

    public struct Report: Sendable, Encodable {
        public var certificates = 0
        public var crls = 0
        public var events = 0
        public var bundles = 0
        public var findings: [Finding] = []
        public var healthy: Bool { findings.isEmpty }
    }

    public func examine(bundles: URL? = nil) throws -> Report {
        var report = Report()
        let authorities = try store.authorities()
        var issuers: [String: Certificate] = [:]
        for authority in authorities {
            if let certificate = try? authority.certificate() { issuers[authority.name] = certificate }
        }
        func find(_ check: String, _ subject: String, _ problem: String) {
            report.findings.append(Finding(check: check, subject: subject, problem: problem))
        }

        var all = CertificateFilter()
        all.includeAuthorities = true
        for entry in try store.certificates(all) {
            report.certificates += 1
            let name = entry.thing ?? entry.subjectAuthority ?? entry.serial.hex
            guard let certificate = try? Certificate(derEncoded: entry.der) else {
                find("certificate", name, "serial \(entry.serial.hex): the stored DER does not parse")
                continue
            }
            if SerialNumber(certificate.serialNumber) != entry.serial { find("certificate", name, "serial \(entry.serial.hex): row and DER serials differ") }
            if Array(SHA256.hash(data: entry.der)).hexString != entry.fingerprintSHA256 {
                find("certificate", name, "serial \(entry.serial.hex): the recorded SHA-256 is not the DER's")
            }
            if certificate.notValidAfter != entry.notAfter || certificate.notValidBefore != entry.notBefore {
                find("certificate", name, "serial \(entry.serial.hex): the recorded validity is not the DER's")
            }
            if certificate.subject.description != entry.subject { find("certificate", name, "serial \(entry.serial.hex): the recorded subject is not the DER's") }
            guard let issuer = issuers[entry.authority] else {
                find("certificate", name, "serial \(entry.serial.hex): its CA \(entry.authority) has no certificate")
                continue
            }
            if !issuer.publicKey.isValidSignature(certificate.signature, for: certificate) {
                find("certificate", name, "serial \(entry.serial.hex): the signature does not verify with CA \(entry.authority)'s key")
            }
        }

        for authority in authorities where authority.status != .pending {
            guard let record = try store.latestCRL(of: authority.name), let issuer = issuers[authority.name] else { continue }
            report.crls += 1
            let file = store.layout.publicFolder.appendingPathComponent("\(authority.name).crl")
            guard let der = FileManager.default.contents(atPath: file.path).map(Array.init) else {
                find("crl", authority.name, "CRL \(record.number) is recorded but \(file.path) is missing")
                continue
            }
            if Array(SHA256.hash(data: der)).hexString != record.sha256 {
                find("crl", authority.name, "\(file.path) is not the recorded CRL \(record.number): `iotca crl publish --if-due` puts it back")
            }
            do {
                let parsed = try CRLFile(der: der)
                if parsed.number != record.number { find("crl", authority.name, "\(file.path) has number \(parsed.number), the store \(record.number)") }
                if !issuer.publicKey.isValidSignature(parsed.signature, for: parsed.tbs, signatureAlgorithm: authority.keyAlgorithm.signatureAlgorithm) {
                    find("crl", authority.name, "\(file.path): the signature does not verify with the CA's key")
                }
            } catch {
                find("crl", authority.name, "\(file.path) does not parse as a CRL")
            }
        }
        for (name, numbers) in try store.crlNumbersInOrder() where zip(numbers, numbers.dropFirst()).contains(where: { $0 >= $1 }) {
            find("crl", name, "CRL numbers do not strictly increase: \(numbers.map(String.init).joined(separator: ", "))")
        }

        let events = try store.events()
        report.events = events.count
        if let broken = AuditEvent.firstBrokenLink(events) {
            find("audit", "events", "the hash chain breaks at event \(broken): a row was changed, inserted or deleted")
        }

        for (path, mode) in [(store.layout.root.path, 0o700), (store.layout.keys.path, 0o700)] where Self.mode(path) & 0o077 != 0 {
            find("files", path, String(format: "mode %o lets others in (want %o)", Self.mode(path), mode))
        }
        let keyFiles = (try? FileManager.default.contentsOfDirectory(atPath: store.layout.keys.path)) ?? []
        for name in keyFiles where name.hasSuffix(".pem") {
            let path = store.layout.keys.appendingPathComponent(name).path
            if Self.mode(path) & 0o077 != 0 { find("files", path, String(format: "key file mode %o (want 600)", Self.mode(path))) }
        }

        if let bundles {
            let serials = Set(try store.certificates(CertificateFilter()).map(\.serial.hex))
            for name in ((try? FileManager.default.contentsOfDirectory(atPath: bundles.path)) ?? []).sorted() where !name.hasPrefix(".") {
                let manifest = bundles.appendingPathComponent(name).appendingPathComponent("manifest.json")
                guard let data = FileManager.default.contents(atPath: manifest.path) else { continue }
                report.bundles += 1
                let serial = (try? JSONSerialization.jsonObject(with: data) as? [String: Any])?["serial"] as? String ?? ""
                if !serials.contains(serial) { find("bundles", name, "the bundle's certificate \(serial) is not in the store") }
            }
        }
        return report
    }

    static func mode(_ path: String) -> Int {
        var info = stat()
        return stat(path, &info) == 0 ? Int(info.st_mode & 0o777) : 0
    }
}

/// The parts of a CRL the doctor checks: the signed bytes, the signature and the CRL number.
@_spi(Fuzzing) public struct CRLFile {
    public let tbs: ArraySlice<UInt8>
    public let signature: ArraySlice<UInt8>
    public let number: Int64

    public init(der: [UInt8]) throws {
        let root = try DER.parse(der)
        guard case .constructed(let parts) = root.content else { throw ASN1Error.invalidASN1Object(reason: "CRL") }
        let nodes = Array(parts)
        guard nodes.count == 3 else { throw ASN1Error.invalidASN1Object(reason: "CRL") }
        tbs = nodes[0].encodedBytes
        signature = try ASN1BitString(derEncoded: nodes[2]).bytes
        guard case .constructed(let fields) = nodes[0].content else { throw ASN1Error.invalidASN1Object(reason: "TBSCertList") }
        var found: Int64?
        for field in fields where field.identifier == ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific) {
            guard case .constructed(let wrapper) = field.content, let list = Array(wrapper).first,
                  case .constructed(let extensions) = list.content else { continue }
            for ext in extensions {
                guard case .constructed(let items) = ext.content else { continue }
                let values = Array(items)
                // An Extension has an OID and a value at least; a hostile file may have neither.
                guard values.count >= 2, let oid = try? ASN1ObjectIdentifier(derEncoded: values[0]), oid == [2, 5, 29, 20],
                      let octets = try? ASN1OctetString(derEncoded: values[values.count - 1]) else { continue }
                let integer = try DER.parse(octets.bytes)
                guard case .primitive(let bytes) = integer.content else { continue }
                found = bytes.reduce(0) { $0 << 8 | Int64($1) }
            }
        }
        guard let found else { throw ASN1Error.invalidASN1Object(reason: "no CRL number") }
        number = found
    }
}
