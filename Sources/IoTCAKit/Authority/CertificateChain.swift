import Foundation
import X509

/// The certificates a relying party needs above a CA: `intermediates` from the CA itself up to
/// but excluding the root (what goes in a bundle's chain.pem), and the self-signed `root`.
public struct CertificateChain: Sendable {
    public let intermediates: [[UInt8]]
    public let root: [UInt8]
    /// The root's pins, computed once: every bundle's manifest carries them.
    public let rootFingerprints: Fingerprints
    /// chain.pem and root.pem, encoded once for all the bundles of a process.
    public let intermediatesPEM: String
    public let rootPEM: String
    /// The same as file contents.
    let intermediatesPEMBytes: [UInt8]
    let rootPEMBytes: [UInt8]

    public init(intermediates: [[UInt8]], root: [UInt8]) throws {
        self.intermediates = intermediates
        self.root = root
        self.rootFingerprints = try IssuedCertificate(der: root).fingerprints
        self.intermediatesPEMBytes = intermediates.flatMap { PEM.bytes($0, type: "CERTIFICATE") }
        self.rootPEMBytes = PEM.bytes(root, type: "CERTIFICATE")
        self.intermediatesPEM = String(decoding: intermediatesPEMBytes, as: UTF8.self)
        self.rootPEM = String(decoding: rootPEMBytes, as: UTF8.self)
    }
}

extension Store {
    /// Walks the hierarchy up from `authority`: through parents in this store, then through the
    /// chain an external CA was imported with.
    public func chain(of authority: Authority) throws -> CertificateChain {
        var intermediates: [[UInt8]] = []
        var current = authority
        // Bounded: a hierarchy deeper than this is a corrupt store, not a real PKI.
        for _ in 0..<16 {
            guard let der = current.certificateDER else { throw AuthorityError.pending(current.name) }
            if current.kind == .root { return try CertificateChain(intermediates: intermediates, root: der) }
            intermediates.append(der)
            if let parent = current.parentName {
                current = try self.authority(named: parent)
                continue
            }
            for issuer in current.externalChainDER {
                guard let certificate = try? Certificate(derEncoded: issuer) else { break }
                if certificate.issuer == certificate.subject {
                    return try CertificateChain(intermediates: intermediates, root: issuer)
                }
                intermediates.append(issuer)
            }
            break
        }
        throw StoreError.database("the chain of CA \(authority.name) does not reach a self-signed root")
    }
}
