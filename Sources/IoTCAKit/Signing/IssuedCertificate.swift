import Foundation
import SwiftASN1
import X509

/// A signed certificate with the encodings and hashes the store and bundles need, computed once.
public struct IssuedCertificate: Sendable {
    public let certificate: Certificate
    public let der: [UInt8]
    public let fingerprints: Fingerprints

    public init(_ certificate: Certificate) throws {
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        self.certificate = certificate
        self.der = serializer.serializedBytes
        self.fingerprints = try Fingerprints(certificateDER: der, publicKey: certificate.publicKey)
    }

    public init(der: [UInt8]) throws {
        try self.init(Certificate(derEncoded: der))
    }

    public var serial: SerialNumber { SerialNumber(certificate.serialNumber) }
    public var pem: String { Self.pem(der) }

    static func pem(_ der: [UInt8]) -> String {
        PEM.encode(der, type: "CERTIFICATE")
    }
}
