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
    /// With a keyring that has the passphrase, every CA key is also opened and compared with
    /// its certificate; without, only its file is checked.
    public let keyring: Keyring?

    public init(store: Store, keyring: Keyring? = nil) {
        self.store = store
        self.keyring = keyring
    }

    public struct Report: Sendable, Encodable {
        public var certificates = 0
        public var crls = 0
        public var events = 0
        /// The audit chain's head: the last event's hash (two copies of a store agree on it).
        public var head: String?
        /// CAs, things and certificates by status, for comparing two copies of a store.
        public var authorities = 0
        public var things = 0
        public var bundles = 0
        public var findings: [Finding] = []
        public var healthy: Bool { findings.isEmpty }
    }

    /// Problems are findings in the report, never thrown. Certificates and events stream past
    /// (memory stays flat on a fleet's store); with `sample`, only about that many certificates,
    /// picked at random, are checked.
    /// - Throws: `StoreError` when the store cannot be read at all.
    public func examine(bundles: URL? = nil, sample: Int? = nil) throws -> Report {
        var report = Report()
        let examination = try store.examination()
        let authorities = examination.authorities
        var issuers: [String: Certificate] = [:]
        for authority in authorities {
            if let certificate = try? authority.certificate() { issuers[authority.name] = certificate }
        }
        func find(_ check: String, _ subject: String, _ problem: String) {
            report.findings.append(Finding(check: check, subject: subject, problem: problem))
        }

        for corrupt in examination.corrupt {
            if case .corruptRow(let table, let key, let detail) = corrupt {
                find("store", "\(table) \(key)", "the row does not parse (\(detail)): restore it from a backup")
            }
        }
        // A bundle never reported written: a run died between commit and bundle, or the write
        // failed. Minutes-old ones may belong to a batch running right now.
        let check = DoctorCertificateCheck(issuers: issuers, staleBefore: store.clock.now().addingTimeInterval(-600))
        // Rows are checked a chunk at a time on every core (a signature check each): memory
        // holds one chunk. A row of a CA the list above lacks (made during a long examination)
        // waits for the list read again at the end.
        var chunk: [CertificateEntry] = [], laterCA: [CertificateEntry] = []
        func checkChunk() {
            report.certificates += chunk.count
            laterCA += chunk.filter { issuers[$0.authority] == nil }
            report.findings += check.findings(chunk.filter { issuers[$0.authority] != nil }).joined()
            chunk.removeAll(keepingCapacity: true)
        }
        try store.examineCertificates(sample: sample) { examined in
            switch examined {
            case .success(let entry):
                chunk.append(entry)
                if chunk.count == DoctorCertificateCheck.chunkSize { checkChunk() }
            case .failure(let corrupt):
                if case .corruptRow(let table, let key, let detail) = corrupt {
                    find("store", "\(table) \(key)", "the row does not parse (\(detail)): restore it from a backup")
                }
            }
        }
        checkChunk()
        if !laterCA.isEmpty {
            for authority in try store.examination().authorities {
                if let certificate = try? authority.certificate() { issuers[authority.name] = certificate }
            }
            let recheck = DoctorCertificateCheck(issuers: issuers, staleBefore: check.staleBefore)
            report.findings += laterCA.flatMap(recheck.findings)
        }

        for authority in authorities where authority.status != .pending {
            guard let record = try store.latestCRL(of: authority.name), let issuer = issuers[authority.name] else { continue }
            report.crls += 1
            let file = store.layout.publicFolder.appendingPathComponent("\(authority.name).crl")
            let der: [UInt8]
            if store.isShared {
                // Nodes serve the CRL from the database; a node's copy in its folder is optional.
                guard let (_, stored) = try store.latestCRLDER(of: authority.name) else {
                    find("crl", authority.name, "CRL \(record.number) is recorded without its DER: publish it again")
                    continue
                }
                der = stored
            } else if let onDisk = FileManager.default.contents(atPath: file.path).map(Array.init) {
                der = onDisk
            } else {
                find("crl", authority.name, "CRL \(record.number) is recorded but \(file.path) is missing")
                continue
            }
            if Array(SHA256.hash(data: der)).hexString != record.sha256 {
                find("crl", authority.name, "\(file.path) is not the recorded CRL \(record.number)': the next due-check publication puts it back")
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
        for (name, crls) in try store.crlNumbersInOrder()
        where zip(crls, crls.dropFirst()).contains(where: { $0.number >= $1.number || $0.thisUpdate > $1.thisUpdate }) {
            let numbers = crls.map(\.number)
            find("crl", name, "CRL numbers and their thisUpdate times do not increase together: \(numbers.map(String.init).joined(separator: ", "))")
        }

        var chain = AuditChainCheck(authorities: authorities)
        try store.forEachEvent { chain.add($0) }
        chain.recheck(with: try store.examination().authorities)
        report.events = chain.events
        report.head = chain.head
        report.authorities = authorities.count
        report.things = try store.thingCount()
        if let broken = chain.brokenAt {
            find("audit", "events", "the hash chain breaks at event \(broken): a row was changed, inserted or deleted")
        }
        for problem in chain.verdict.problems { find("audit", "checkpoints", problem) }
        // Each certificate as its issuance event recorded it (the event is in the chain, the row
        // is not); a sample skips this pass, which reads every issuance.
        if sample == nil {
            try store.forEachIssuanceEvent { recorded in
                guard let der = recorded.der else {
                    return find("audit", "event \(recorded.event)", "certificate \(recorded.serial) of CA \(recorded.authority), issued to \(recorded.thing), is not in the store")
                }
                if Array(SHA256.hash(data: der)).hexString != recorded.sha256 {
                    find("audit", "event \(recorded.event)", "certificate \(recorded.serial): the DER in the store is not the one issued to \(recorded.thing)")
                }
                if recorded.rowThing != recorded.thing {
                    find("audit", "event \(recorded.event)", "certificate \(recorded.serial) was issued to \(recorded.thing), the store says \(recorded.rowThing ?? "no thing")")
                }
            }
        }

        let folders = store.isShared ? [store.layout.root.path] : [store.layout.root.path, store.layout.keys.path]
        for path in folders where Self.mode(path) & 0o077 != 0 {
            find("files", path, String(format: "mode %o lets others in (want %o)", Self.mode(path), 0o700))
        }
        let keyFiles = try store.files.list("keys")
        for name in keyFiles where name.hasSuffix(".pem") && !store.isShared {
            let path = store.layout.keys.appendingPathComponent(name).path
            if Self.mode(path) & 0o077 != 0 { find("files", path, String(format: "key file mode %o (want 600)", Self.mode(path))) }
        }
        for (check, subject, problem) in try examineKeys(authorities, standby: examination.standbyKeys, keyFiles: keyFiles) {
            find(check, subject, problem)
        }
        for (subject, problem) in NextRootCheck.findings(try store.standbyKeys(), now: store.clock.now()) {
            find("next-root", subject, problem)
        }

        if let bundles {
            for name in ((try? FileManager.default.contentsOfDirectory(atPath: bundles.path)) ?? []).sorted() where !name.hasPrefix(".") {
                let manifest = bundles.appendingPathComponent(name).appendingPathComponent("manifest.json")
                guard let data = FileManager.default.contents(atPath: manifest.path) else { continue }
                report.bundles += 1
                let serial = (try? JSONSerialization.jsonObject(with: data) as? [String: Any])?["serial"] as? String ?? ""
                let recorded = try SerialNumber(hex: serial).map { try store.certificates(serial: $0) } ?? []
                if !recorded.contains(where: { $0.thing != nil }) { find("bundles", name, "the bundle's certificate \(serial) is not in the store") }
            }
        }
        return report
    }

    /// Each CA's key file exists and is readable; with the passphrase, it opens and holds the
    /// key its certificate (or, while pending, its CSR) certifies. Key files no CA or standby
    /// key refers to are left by a create that was killed before it committed.
    private func examineKeys(_ allAuthorities: [Authority], standby allStandby: [StandbyKey],
                             keyFiles: [String]) throws -> [(String, String, String)] {
        var findings: [(String, String, String)] = []
        // Keys in a token have no file: each is opened there when a PIN is at hand.
        let authorities = allAuthorities.filter { !PKCS11URI.isURI($0.keyFile) }
        let standby = allStandby.filter { !PKCS11URI.isURI($0.keyFile) }
        if let keyring {
            let front = CertificateAuthority(keyring: keyring)
            for authority in allAuthorities where PKCS11URI.isURI(authority.keyFile) {
                let status = try front.keyStatus(of: authority.name)
                if status.reachable == false {
                    findings.append(("key", authority.name, "its key in the token does not answer: \(status.problem ?? "")"))
                }
            }
        }
        let used = Set(authorities.map(\.keyFile) + standby.map(\.keyFile))
        let passphrase = try keyring?.passphraseIfAvailable()
        if try PassphraseChange(store: store).isInterrupted() {
            findings.append(("key", "passphrase", "a passphrase change was interrupted: run it again to finish (the store opens with the old or the new passphrase)"))
        }
        // Each key file read once; a used standby key's file is also its root's.
        var pems: [String: String] = [:]
        for file in used { pems[file] = (try? store.files.read(file) ?? nil).map { String(decoding: $0, as: UTF8.self) } }
        var reported: Set<String> = []
        for (name, file) in authorities.map({ ($0.name, $0.keyFile) }) + standby.map({ ($0.name, $0.keyFile) })
        where reported.insert(file).inserted {
            guard let pem = pems[file], let protection = KeyFileProtection.read(pem: pem), !protection.meetsPolicy else { continue }
            findings.append(("kdf", name, "\(file) is protected by \(protection.summary), below the policy (PBKDF2-HMAC-SHA256 with at least \(KeyProtection.minimumIterations) iterations): change the passphrase (the same one twice will do) to re-encrypt it"))
        }
        for authority in authorities {
            let path = store.files.describe(authority.keyFile)
            guard let pem = pems[authority.keyFile] else {
                findings.append(("key", authority.name, "the key file \(path) is missing or unreadable: the CA cannot sign"))
                continue
            }
            if store.isShared && !authority.keyEncrypted {
                findings.append(("key", authority.name, "\(path) is not encrypted, in a database other machines read: change the passphrase to encrypt it"))
            }
            guard authority.keyEncrypted ? passphrase != nil : true else { continue }
            let key: PrivateKeyMaterial
            do {
                key = try PrivateKeyMaterial(pem: pem, passphrase: authority.keyEncrypted ? passphrase : nil, path: path)
            } catch {
                findings.append(("key", authority.name, "\(path) does not open: \(error.description)"))
                continue
            }
            if let certified = (try? authority.certifiedPublicKey()) ?? nil, certified != key.publicKey {
                findings.append(("key", authority.name, "\(path) holds another key than the CA's certificate certifies"))
            }
        }
        for name in keyFiles.sorted() where name.hasSuffix(".key.pem") && !used.contains("keys/" + name) {
            findings.append(("key", name, "no CA or standby key uses \(store.files.describe("keys/" + name)) (left by a CA creation killed before it committed): remove it once you are sure"))
        }
        return findings
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
