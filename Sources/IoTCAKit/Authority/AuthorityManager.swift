import Foundation
import SwiftASN1
import X509

/// Creates, imports, enables and disables the CAs of a store. Each operation writes the CA's
/// key file first (0600, encrypted) and then records the CA, its certificate and the audit
/// event in one transaction; a failure in between removes the key file again.
public struct AuthorityManager {
    public let keyring: Keyring
    public var store: Store { keyring.store }

    public init(keyring: Keyring) {
        self.keyring = keyring
    }

    /// A CA signed by another CA of this store (`iotca ca create NAME --parent CA`).
    /// - Throws: `AuthorityError` (already exists: conflict; parent not found, unavailable, or
    ///   unable to certify a CA), `PolicyError`, `KeyError` (passphrase, its policy).
    @discardableResult
    public func createSubordinate(_ name: String, parent parentName: String, keyType: KeyAlgorithm? = nil,
                                  validity: ValidityPeriod? = nil, template templateName: String = "subordinate-ca",
                                  token: PKCS11URI? = nil, now time: Date? = nil, reserved: Bool = false,
                                  attributes: [String: String] = [:]) throws -> Authority {
        let now = time ?? store.clock.now()
        try checkNewName(name, reserved: reserved)
        let parent = try store.authority(named: parentName)
        if !reserved && (ServiceHierarchy.isReserved(parent.name)) {
            throw AuthorityError.cannotCertifyCA(parent: parentName, reason: "the service's CAs certify no other CA")
        }
        let signer = try keyring.signer(for: parent)
        if case .isCertificateAuthority(let pathLength) = try signer.certificate.extensions.basicConstraints ?? .notCertificateAuthority,
           pathLength == 0 {
            throw AuthorityError.cannotCertifyCA(parent: parentName, reason: "its pathLength is 0 (it may sign only end-entity certificates); certify the new CA from the root")
        }
        let template = try caTemplate(templateName, attributes: attributes)
        try MatterPolicy.checkServes(template, issuer: signer.certificate)
        let keyAlgorithm = keyType ?? parent.keyAlgorithm
        if let role = template.matter { try MatterPolicy.check(key: keyAlgorithm, issuer: signer.certificate, role: role) }
        let policy = IssuancePolicy(template: template, thing: name, organization: try store.organization(), attributes: attributes,
                                    validity: validity)
        // The subject is decided before a key is made: a refused vendor ID leaves nothing behind.
        let profile = try policy.profile(issuerName: parentName, issuer: signer.certificate)
        let key = try keyring.newCAKey(keyAlgorithm, name: name, token: token)
        var spec = try policy.decide(publicKey: key.publicKey, issuerName: parentName, issuer: signer.certificate, now: now, profile: profile)
        spec.crlDistributionPoint = parent.crlURL
        spec.caIssuersURL = parent.caIssuersURL
        spec.ocspURL = parent.ocspURL
        let issued = try signer.sign(spec)
        return try record(.init(
            name: name, kind: .subordinate, parentName: parentName, status: .active, keyAlgorithm: key.algorithm,
            keyFile: StoreLayout.newKeyFile(for: name), keyEncrypted: try keyring.encryptsKeys(), issued: issued,
            template: template.name, csrDER: nil, subject: issued.subject.description), key: key, now: now)
    }

    /// A CA whose certificate will come from outside (an offline root, ACM PCA): its key and a
    /// CSR now, its certificate later through `importCertificate`. Returns the CSR in PEM.
    /// - Throws: `AuthorityError.alreadyExists` (conflict), `PolicyError`, `KeyError`.
    public func createExternal(_ name: String, keyType: KeyAlgorithm = .ecP256, template templateName: String = "subordinate-ca",
                               token: PKCS11URI? = nil, now time: Date? = nil) throws -> (Authority, String) {
        let now = time ?? store.clock.now()
        try checkNewName(name)
        let template = try caTemplate(templateName)
        if template.matter != nil {
            throw PolicyError.outsideMatterProfile(rule: "Matter CAs are made in the store, a PAI under its PAA; one certified outside it is not supported")
        }
        // In a token: a new key there, or (object=/id=) one it already holds.
        let key = try keyring.newCAKey(keyType, name: name, token: token)
        let profile = try IssuancePolicy(template: template, thing: name, organization: try store.organization())
            .profile(issuerName: "external", issuer: nil)
        var extensions = Certificate.Extensions()
        try extensions.append(Certificate.Extension(BasicConstraints.isCertificateAuthority(maxPathLength: template.pathLength), critical: true))
        try extensions.append(Certificate.Extension(template.x509KeyUsage, critical: true))
        try extensions.append(Certificate.Extension(SubjectKeyIdentifier(hash: key.publicKey), critical: false))
        let request = try CertificateSigningRequest(
            version: .v1, subject: profile.subject, privateKey: try key.signingKey(),
            attributes: CertificateSigningRequest.Attributes([.init(ExtensionRequest(extensions: extensions))]),
            signatureAlgorithm: keyType.signatureAlgorithm)
        var serializer = DER.Serializer()
        try serializer.serialize(request)
        let der = serializer.serializedBytes
        let authority = try record(.init(
            name: name, kind: .subordinate, parentName: nil, status: .pending, keyAlgorithm: keyType,
            keyFile: StoreLayout.newKeyFile(for: name), keyEncrypted: try keyring.encryptsKeys(), issued: nil,
            template: template.name, csrDER: der, subject: profile.subject.description), key: key, now: now)
        return (authority, PEM.encode(der, type: "CERTIFICATE REQUEST"))
    }

    /// Completes an external CA with the certificate its issuer signed. `chain` holds the
    /// issuer certificates up to the root; without it the issuer must be a CA of this store.
    /// - Throws: `AuthorityError.notPending`, `AuthorityError.importRejected` (policy: another key,
    ///   not a CA, expired, a chain that does not validate under RFC 5280).
    @discardableResult
    public func importCertificate(_ name: String, certificate certificateBytes: [UInt8], chain chainBytes: [UInt8]?,
                                  now time: Date? = nil) async throws -> Authority {
        let now = time ?? store.clock.now()
        let authority = try store.authority(named: name)
        guard authority.status == .pending, let csrDER = authority.csrDER else { throw AuthorityError.notPending(name) }
        func reject(_ reason: String) -> AuthorityError { .importRejected(name, reason: reason) }
        guard let certificateDER = Self.certificates(in: certificateBytes).first,
              let certificate = try? Certificate(derEncoded: certificateDER) else {
            throw reject("the file holds no readable certificate (PEM or DER)")
        }
        let request = try CertificateSigningRequest(derEncoded: csrDER)
        guard certificate.publicKey == request.publicKey else {
            throw reject("it certifies another key than the one made when the external CA \(name) was created")
        }
        guard case .isCertificateAuthority = try certificate.extensions.basicConstraints ?? .notCertificateAuthority,
              try certificate.extensions.keyUsage?.keyCertSign == true else {
            throw reject("it is not a CA certificate (basicConstraints cA and keyUsage keyCertSign are required)")
        }
        guard certificate.notValidAfter > now else { throw reject("it expired on \(Store.timestamp(certificate.notValidAfter))") }
        let chain: [[UInt8]]
        if let chainBytes {
            chain = Self.certificates(in: chainBytes).filter { $0 != certificateDER }
        } else if let issuer = try store.authorities().first(where: { candidate in
            guard let der = candidate.certificateDER, let issuer = try? Certificate(derEncoded: der) else { return false }
            return issuer.subject == certificate.issuer && issuer.publicKey.isValidSignature(certificate.signature, for: certificate)
        }) {
            let issuerChain = try store.chain(of: issuer)
            chain = issuerChain.intermediates + [issuerChain.root]
        } else {
            throw reject("its issuer is not a CA of this store: give the issuer certificates up to the root as its chain")
        }
        var candidates: [Certificate] = []
        for der in chain {
            guard let parsed = try? Certificate(derEncoded: der) else { throw reject("the chain holds an unreadable certificate") }
            candidates.append(parsed)
        }
        let validated: [Certificate]
        switch await ChainValidation.validate(leaf: certificate, candidates: candidates, now: now) {
        case .success(let issuers): validated = issuers
        case .failure(let failure): throw reject(failure.reason)
        }
        let issued = try IssuedCertificate(certificate)
        // Stored in the validated order (issuers up to the root), whatever order they came in.
        let originals = Dictionary(zip(candidates, chain), uniquingKeysWith: { first, _ in first })
        try store.completeImport(of: name, issued: issued, chain: validated.compactMap { originals[$0] })
        try publish(name, der: issued.der)
        return try store.authority(named: name)
    }

    @discardableResult
    public func setStatus(_ status: Authority.Status, of name: String) throws -> Authority {
        try store.setStatus(status, of: name)
    }

    /// `iotca ca set`: nil leaves a setting unchanged, an empty URL removes it. Certificates
    /// issued from now on carry the new URLs.
    @discardableResult
    public func updateSettings(of name: String, crlValidity: ValidityPeriod? = nil, crlURL: String? = nil,
                               caIssuersURL: String? = nil, ocspURL: String? = nil, onPublish: String? = nil) throws -> Authority {
        func checked(_ url: String?, _ option: String) throws(PolicyError) -> String?? {
            guard let url else { return .none }
            if url.isEmpty { return .some(nil) }
            try URLPolicy.check(url, field: option)
            return .some(url)
        }
        return try store.updateSettings(
            of: name, crlValidity: crlValidity.map(\.seconds),
            crlURL: try checked(crlURL, "CRL URL"), caIssuersURL: try checked(caIssuersURL, "CA issuers URL"),
            ocspURL: try checked(ocspURL, "OCSP URL"), onPublish: try PublishHook.checked(onPublish))
    }

    // MARK: -

    func checkNewName(_ name: String, reserved: Bool = false) throws {
        try ThingName.validate(name, kind: "CA")
        if !reserved && ServiceHierarchy.isReserved(name) {
            throw PolicyError.invalidValue("CA name \(name)", reason: "it is reserved for the service's own CAs (made by init, or ca create-service)")
        }
        if (try? store.authority(named: name)) != nil { throw AuthorityError.alreadyExists(name) }
    }

    func caTemplate(_ name: String, attributes: [String: String] = [:]) throws -> Template {
        let template = try TemplateCatalog(store: store).template(name)
        guard template.ca else {
            throw PolicyError.invalidTemplate(source: "template \(template.name)", field: "ca", reason: "a CA needs a CA template (\"ca\": true), such as subordinate-ca")
        }
        // A CA's subject comes from its template alone; the IDs are the one input, and only Matter's.
        if template.matter == nil, let name = attributes.keys.sorted().first {
            throw PolicyError.invalidAttribute(name, reason: "a CA takes vendor and product IDs with a Matter template (matter-paa, matter-pai) only")
        }
        for (key, value) in attributes { try ThingAttributes.validate(key: key, value: value) }
        return template
    }

    /// Writes the key file (a name of its own, synced with its folder), then records the CA;
    /// removes the key file if recording fails, e.g. because another process recorded a CA
    /// of the same name first. A token's key is recorded by its URI; there is no file.
    func record(_ draft: Store.NewAuthority, key caKey: CAKey, now: Date) throws -> Authority {
        var new = draft
        try applyStoreDefaults(&new)
        guard case .file(let key) = caKey else {
            if case .token(_, let location) = caKey {
                new.keyFile = location.description
                new.keyEncrypted = false
            }
            try store.insertAuthority(new, now: now)
            if let issued = new.issued { try publish(new.name, der: issued.der) }
            return try store.authority(named: new.name)
        }
        try KeyFileLock.withLock(store) {
            try KeyFile.create(new.keyFile, in: store.files, bytes: try keyring.keyFileBytes(key))
            do {
                try store.insertAuthority(new, now: now)
            } catch {
                try? store.files.remove([new.keyFile])
                throw error
            }
        }
        if let issued = new.issued { try publish(new.name, der: issued.der) }
        return try store.authority(named: new.name)
    }

    /// Store-wide defaults from `init`: the CRL validity, and where STORE/public is served.
    func applyStoreDefaults(_ new: inout Store.NewAuthority) throws {
        if let seconds = try store.setting("crl_validity_seconds").flatMap(Int64.init) { new.crlValidity = seconds }
        if let base = try store.setting("public_url") {
            new.crlURL = "\(base)/\(new.name).crl"
            new.caIssuersURL = "\(base)/\(new.name).crt"
            new.ocspURL = "\(base)/ocsp"
        }
    }

    /// `public/NAME.crt`, the CA certificate in PEM for brokers and operators.
    func publish(_ name: String, der: [UInt8]) throws {
        try AtomicFile.write(IssuedCertificate.pem(der), to: store.layout.certificateFile(for: name))
    }

    static func certificates(in bytes: [UInt8]) -> [[UInt8]] {
        let text = String(decoding: bytes, as: UTF8.self)
        if text.contains("-----BEGIN") { return PEMBundle.derDocuments(in: text, type: "CERTIFICATE") }
        return (try? Certificate(derEncoded: bytes)) != nil ? [bytes] : []
    }
}
