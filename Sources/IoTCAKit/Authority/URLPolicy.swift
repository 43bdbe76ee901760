/// What a URL that goes into certificates must be (cRLDistributionPoints, the CA issuers URL, the
/// store's public URL): an IA5String URI devices fetch, so http(s) or ldap, printable ASCII, at
/// most 2,048 characters.
enum URLPolicy {
    /// `field` names the value in the message ("CRL URL", "public URL").
    static func check(_ url: String, field: String) throws(PolicyError) {
        let lower = url.lowercased()
        guard ["http://", "https://", "ldap://"].contains(where: lower.hasPrefix), url.utf8.count <= 2_048,
              url.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 0x20 && $0.value != 0x7F }) else {
            throw .invalidValue(field, reason: "\(PolicyError.quoted(url)) must be an http://, https:// or ldap:// URL of printable ASCII")
        }
    }
}
