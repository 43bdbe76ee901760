import Crypto
import Foundation
import SwiftASN1
import X509

/// The algorithms a CMP message may be protected with (RFC 9481): signatures by OID, and
/// password-based MAC (RFC 4211 4.4) with its one-way function and MAC.
enum CMPAlgorithms {
    static let passwordBasedMAC: ASN1ObjectIdentifier = [1, 2, 840, 113533, 7, 66, 13]

    static func signature(_ oid: ASN1ObjectIdentifier) -> Certificate.SignatureAlgorithm? {
        switch oid {
        case [1, 2, 840, 10045, 4, 3, 2]: .ecdsaWithSHA256
        case [1, 2, 840, 10045, 4, 3, 3]: .ecdsaWithSHA384
        case [1, 2, 840, 10045, 4, 3, 4]: .ecdsaWithSHA512
        case [1, 2, 840, 113549, 1, 1, 11]: .sha256WithRSAEncryption
        case [1, 2, 840, 113549, 1, 1, 12]: .sha384WithRSAEncryption
        case [1, 2, 840, 113549, 1, 1, 13]: .sha512WithRSAEncryption
        case [1, 3, 101, 112]: .ed25519
        default: nil
        }
    }

    enum Digest: Sendable {
        case sha1, sha256, sha384, sha512

        /// SHA-1 only as PBM's one-way function (BouncyCastle's default): iterated over a
        /// 192-bit random secret, where collisions do not matter; never for a certificate hash.
        init?(oneWayFunction oid: ASN1ObjectIdentifier) {
            if oid == [1, 3, 14, 3, 2, 26] { self = .sha1 } else { self.init(oid) }
        }

        init?(_ oid: ASN1ObjectIdentifier) {
            switch oid {
            case [2, 16, 840, 1, 101, 3, 4, 2, 1]: self = .sha256
            case [2, 16, 840, 1, 101, 3, 4, 2, 2]: self = .sha384
            case [2, 16, 840, 1, 101, 3, 4, 2, 3]: self = .sha512
            default: return nil
            }
        }

        func hash(_ bytes: [UInt8]) -> [UInt8] { iterated(bytes, times: 1) }

        /// H(H(...H(bytes))), `times` deep: PBM's base key. Each round hashes the previous
        /// digest in place, without an array per round (the rounds were most of a CMP request).
        func iterated(_ bytes: [UInt8], times: Int) -> [UInt8] {
            switch self {
            case .sha1: Self.iterate(Insecure.SHA1.self, bytes, times)
            case .sha256: Self.iterate(SHA256.self, bytes, times)
            case .sha384: Self.iterate(SHA384.self, bytes, times)
            case .sha512: Self.iterate(SHA512.self, bytes, times)
            }
        }

        private static func iterate<H: HashFunction>(_: H.Type, _ bytes: [UInt8], _ times: Int) -> [UInt8] {
            var digest = H.hash(data: bytes)
            for _ in 1..<max(times, 1) {
                var hasher = H()
                digest.withUnsafeBytes { hasher.update(bufferPointer: $0) }
                digest = hasher.finalize()
            }
            return Array(digest)
        }

        /// The hash a certificate signed with `algorithm` is confirmed by (RFC 9810 5.3.18:
        /// the signature's hash; SHA-512 for Ed25519 as RFC 9481 3.3 says).
        init(signedWith algorithm: Certificate.SignatureAlgorithm) {
            switch algorithm {
            case .ecdsaWithSHA384, .sha384WithRSAEncryption: self = .sha384
            case .ecdsaWithSHA512, .sha512WithRSAEncryption, .ed25519: self = .sha512
            default: self = .sha256
            }
        }
    }

    enum MAC: Sendable {
        case hmacSHA1, hmacSHA256, hmacSHA384, hmacSHA512

        init?(_ oid: ASN1ObjectIdentifier) {
            switch oid {
            // HMAC-SHA1 is OpenSSL's default for PBM; as a MAC it is still sound (RFC 9481 6.2.1 lists it).
            case [1, 3, 6, 1, 5, 5, 8, 1, 2]: self = .hmacSHA1
            case [1, 2, 840, 113549, 2, 9]: self = .hmacSHA256
            case [1, 2, 840, 113549, 2, 10]: self = .hmacSHA384
            case [1, 2, 840, 113549, 2, 11]: self = .hmacSHA512
            default: return nil
            }
        }

        func authenticate(_ bytes: [UInt8], key: [UInt8]) -> [UInt8] {
            let key = SymmetricKey(data: key)
            switch self {
            case .hmacSHA1: return Array(HMAC<Insecure.SHA1>.authenticationCode(for: bytes, using: key))
            case .hmacSHA256: return Array(HMAC<SHA256>.authenticationCode(for: bytes, using: key))
            case .hmacSHA384: return Array(HMAC<SHA384>.authenticationCode(for: bytes, using: key))
            case .hmacSHA512: return Array(HMAC<SHA512>.authenticationCode(for: bytes, using: key))
            }
        }
    }

    /// PBMParameter (RFC 4211 4.4): salt, one-way function, iteration count, MAC.
    struct PasswordBasedMAC: Sendable {
        let salt: [UInt8]
        let owf: Digest
        let iterations: Int
        let mac: MAC
        /// The parameters as received, to answer with the same function, count and MAC.
        let owfDER: [UInt8]
        let macDER: [UInt8]

        /// Whoever sends a message chooses the count, and each iteration costs the CA a hash
        /// before it knows who asks: capped well under OpenSSL's own limit (100,000; its
        /// client sends 500, BouncyCastle 1,000). Fewer than 100 protects nothing.
        static let iterationLimit = 10_000

        init(parameters node: ASN1Node?) throws(CMPFailure) {
            do {
                guard let node else { throw CMPFailure(.badAlg, "password-based MAC without parameters") }
                let parts = try ASN1Reading.children(of: node, expecting: .sequence)
                guard parts.count == 4 else { throw CMPFailure(.badDataFormat, "a PBMParameter has four fields") }
                salt = Array(try ASN1OctetString(derEncoded: parts[0]).bytes)
                guard let owf = Digest(oneWayFunction: try ASN1Reading.oid(parts[1]).0) else {
                    throw CMPFailure(.badAlg, "the one-way function is not SHA-1, SHA-256, SHA-384 or SHA-512")
                }
                iterations = try Int(derEncoded: parts[2])
                guard (100...Self.iterationLimit).contains(iterations) else {
                    throw CMPFailure(.badAlg, "the iteration count is not between 100 and \(Self.iterationLimit)")
                }
                guard let mac = MAC(try ASN1Reading.oid(parts[3]).0) else {
                    throw CMPFailure(.badAlg, "the MAC is not HMAC with SHA-1, SHA-256, SHA-384 or SHA-512")
                }
                guard (8...64).contains(salt.count) else { throw CMPFailure(.badAlg, "the salt is not 8 to 64 bytes") }
                self.owf = owf
                self.mac = mac
                owfDER = Array(parts[1].encodedBytes)
                macDER = Array(parts[3].encodedBytes)
            } catch let failure as CMPFailure {
                throw failure
            } catch {
                throw CMPFailure(.badDataFormat, "unreadable PBMParameter")
            }
        }

        /// The key the MAC is made with: the one-way function iterated over secret and salt.
        func baseKey(secret: [UInt8]) -> [UInt8] { owf.iterated(secret + salt, times: iterations) }

        func authenticate(_ bytes: [UInt8], baseKey: [UInt8]) -> [UInt8] { mac.authenticate(bytes, key: baseKey) }

        func authenticate(_ bytes: [UInt8], secret: [UInt8]) -> [UInt8] { authenticate(bytes, baseKey: baseKey(secret: secret)) }

        /// The AlgorithmIdentifier naming PBM with these parameters.
        var algorithmIdentifierDER: [UInt8] {
            var writer = DERWriter()
            writer.element(0x30) { identifier in
                identifier.append(DERWriter.objectIdentifier(passwordBasedMAC))
                identifier.element(0x30) { parameters in
                    parameters.element(0x04) { $0.append(salt) }
                    parameters.append(owfDER)
                    parameters.unsignedInteger(UInt64(iterations))
                    parameters.append(macDER)
                }
            }
            return writer.take()
        }
    }
}

extension DERWriter {
    static func objectIdentifier(_ oid: ASN1ObjectIdentifier) -> [UInt8] {
        var serializer = DER.Serializer()
        try? serializer.serialize(oid)
        return serializer.serializedBytes
    }
}
