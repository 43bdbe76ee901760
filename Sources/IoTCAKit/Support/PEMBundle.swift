import SwiftASN1

/// Reads files holding several PEM blocks (chains, bundles), as OpenSSL does: text outside
/// the BEGIN/END lines is ignored.
@_spi(Fuzzing) public enum PEMBundle {
    public static func documents(in text: String) throws -> [PEMDocument] {
        var documents: [PEMDocument] = []
        var rest = Substring(text)
        while let begin = rest.range(of: "-----BEGIN ") {
            guard let endMarker = rest[begin.upperBound...].range(of: "-----END ") else {
                throw PEMError.unterminated
            }
            guard let close = rest[endMarker.upperBound...].range(of: "-----") else { throw PEMError.unterminated }
            documents.append(try PEMDocument(pemString: String(rest[begin.lowerBound..<close.upperBound])))
            rest = rest[close.upperBound...]
        }
        return documents
    }

    /// The DER of every block of `type`; blocks that do not parse are skipped.
    static func derDocuments(in text: String, type: String) -> [[UInt8]] {
        ((try? documents(in: text)) ?? []).filter { $0.discriminator == type }.map(\.derBytes)
    }

    enum PEMError: Error { case unterminated }
}
