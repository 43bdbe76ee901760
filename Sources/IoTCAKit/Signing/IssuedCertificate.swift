import Foundation
import SwiftASN1
import X509

/// A signed certificate with the encodings, names, times and hashes the store and bundles
/// need, computed once. The certificate is parsed again only where a caller asks for it
/// (`parsed()`): the batch path has everything it needs from what it signed.
public struct IssuedCertificate: Sendable {
    public let der: [UInt8]
    public let fingerprints: Fingerprints
    public let serial: SerialNumber
    public let subject: DistinguishedName
    public let issuer: DistinguishedName
    public let notValidBefore: Date
    public let notValidAfter: Date

    public init(_ certificate: Certificate) throws {
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        self.der = serializer.serializedBytes
        self.fingerprints = try Fingerprints(certificateDER: der, publicKey: certificate.publicKey)
        self.serial = SerialNumber(certificate.serialNumber)
        self.subject = certificate.subject
        self.issuer = certificate.issuer
        self.notValidBefore = certificate.notValidBefore
        self.notValidAfter = certificate.notValidAfter
    }

    public init(der: [UInt8]) throws {
        try self.init(Certificate(derEncoded: der))
    }

    /// What `CertificateWriter` wrote for `spec`: the fields come from the spec as written
    /// (times in whole seconds, as the certificate carries them).
    init(der: [UInt8], spec: CertificateSpec, issuer: DistinguishedName) throws {
        self.der = der
        self.fingerprints = try Fingerprints(certificateDER: der, publicKey: spec.publicKey)
        self.serial = spec.serial
        self.subject = spec.subject
        self.issuer = issuer
        self.notValidBefore = Date(timeIntervalSince1970: spec.notBefore.timeIntervalSince1970.rounded())
        self.notValidAfter = Date(timeIntervalSince1970: spec.notAfter.timeIntervalSince1970.rounded())
    }

    public func parsed() throws -> Certificate { try Certificate(derEncoded: der) }

    public var pem: String { Self.pem(der) }

    static func pem(_ der: [UInt8]) -> String {
        PEM.encode(der, type: "CERTIFICATE")
    }
}
