import Foundation
import X509

/// A server's answer that the client refuses before writing anything: an answer is input like
/// any other, and a server that lies (compromised, or not the one meant) must not make the
/// client write outside its output folder or hand a device a key its certificate does not
/// certify.
public struct AnswerRejected: IoTCAError, Equatable {
    public let reason: String
    public var kind: ErrorKind { .unavailable }

    public init(_ reason: String) { self.reason = reason }

    public var description: String { "the server's answer is refused (\(reason)); nothing was written" }
}

extension Bundle {
    /// Checks a bundle a server answered for `thing`: the names are the one asked for and a
    /// valid thing name (the folder it is written to), the certificate is the recorded one
    /// (`serial`), it certifies the bundle's private key or the request's (`csrKey`), and the
    /// chain links up to a self-signed root by signatures.
    /// - Throws: `AnswerRejected`.
    public func checkAnswer(for thing: String, serial: SerialNumber, csrKey: Certificate.PublicKey?) throws(AnswerRejected) {
        guard self.thing == thing, manifest.thing == thing else {
            throw AnswerRejected("it is for \(PolicyError.quoted(self.thing)), not \(thing)")
        }
        do { try ThingName.validate(self.thing) } catch { throw AnswerRejected("\(error)") }
        let certificate: Certificate
        do { certificate = try Certificate(derEncoded: certificateDER) } catch { throw AnswerRejected("its certificate does not parse") }
        guard SerialNumber(bytes: Array(certificate.serialNumber.bytes)) == serial else {
            throw AnswerRejected("its certificate is not the one it says it recorded")
        }
        // A request's key stays on the device: an answer to a CSR that brings a key of its own
        // would hand the device a key the server knows.
        if csrKey != nil && privateKey != nil { throw AnswerRejected("it holds a private key, but the request brought its own") }
        guard let key = csrKey ?? privateKey?.publicKey else {
            throw AnswerRejected("it holds neither a private key nor a certificate for the request's key")
        }
        guard certificate.publicKey == key else { throw AnswerRejected("its certificate certifies another key") }
        var issuers: [Certificate] = []
        do {
            issuers = try (chain.intermediates + [chain.root]).map { try Certificate(derEncoded: $0) }
        } catch {
            throw AnswerRejected("its chain does not parse")
        }
        var current = certificate
        for issuer in issuers {
            guard current.issuer == issuer.subject, issuer.publicKey.isValidSignature(current.signature, for: current) else {
                throw AnswerRejected("its chain does not link: \(current.subject) is not signed by \(issuer.subject)")
            }
            current = issuer
        }
        guard current.subject == current.issuer, current.publicKey.isValidSignature(current.signature, for: current) else {
            throw AnswerRejected("its root is not self-signed")
        }
    }
}
