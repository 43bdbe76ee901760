import Foundation

/// `iotca trust-store`: the anchors firmware compiles in, and the files that carry them.
public enum TrustStore {
    /// The store's roots that still vouch for certificates (active or disabled, not expired, the
    /// service's own root aside), oldest first; then each next root certified in advance; then
    /// the CAs named in `extra`, each once.
    /// - Throws: `AuthorityError` (a named CA unknown, pending or revoked), `TrustStoreError.empty`.
    public static func anchors(of store: Store, extra: [String] = [], now: Date) throws -> [TrustAnchor] {
        var anchors: [TrustAnchor] = []
        let authorities = try store.authorities()
        for root in authorities where root.kind == .root && root.name != ServiceHierarchy.rootName
            && (root.status == .active || root.status == .disabled) && (root.notAfter ?? .distantPast) > now {
            guard let der = root.certificateDER else { continue }
            anchors.append(try TrustAnchor(name: root.name, role: .root, der: der))
        }
        for standby in try store.standbyKeys() {
            guard let der = standby.certificateDER else { throw TrustStoreError.nextRootUncertified(standby.name) }
            anchors.append(try TrustAnchor(name: standby.name, role: .nextRoot, der: der))
        }
        for name in extra where !anchors.contains(where: { $0.name == name }) {
            let authority = try store.authority(named: name)
            if authority.status == .revoked { throw AuthorityError.revoked(name) }
            guard let der = authority.certificateDER else { throw AuthorityError.pending(name) }
            anchors.append(try TrustAnchor(name: name, role: .named, der: der))
        }
        guard !anchors.isEmpty else { throw TrustStoreError.empty }
        return anchors
    }

    /// The files of `format` for `anchors`, as paths relative to the output (a single file's
    /// path is "", a folder's files are named), byte-identical for the same anchors.
    public static func render(_ anchors: [TrustAnchor], as format: TrustStoreFormat) throws(TrustStoreError) -> [(path: String, bytes: [UInt8])] {
        switch format {
        case .pem:
            return [("", Array(PEMTrustStore.render(anchors).utf8))]
        case .c:
            return [("", Array(CTrustHeader.render(anchors).utf8))]
        case .espCertificateBundle(let layout):
            return [("", try ESPCertificateBundle.render(anchors, layout: layout)),
                    (".manifest.txt", Array(ESPCertificateBundle.manifest(anchors, layout: layout).utf8))]
        case .zephyr:
            return ZephyrCredentials.render(anchors)
        }
    }
}

extension TrustStore {
    /// Writes what `render` made: single files at `out` (a sidecar's path is `out` plus its
    /// suffix), a folder's files inside `out` (made when missing). Each file is replaced
    /// atomically, so a reader never sees half an anchor and a re-run writes the same bytes.
    /// - Returns: the files written. - Throws: `OutputError`.
    @discardableResult
    public static func write(_ files: [(path: String, bytes: [UInt8])], to out: URL, asFolder: Bool) throws -> [URL] {
        if asFolder {
            do {
                try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
            } catch {
                throw OutputError.writeFailed(path: out.path, detail: error.localizedDescription)
            }
        }
        return try files.map { file in
            let url = asFolder ? out.appendingPathComponent(file.path) : URL(fileURLWithPath: out.path + file.path)
            try AtomicFile.write(file.bytes, to: url)
            return url
        }
    }
}

/// Why no trust store was written.
public enum TrustStoreError: IoTCAError, Equatable {
    case empty
    case nextRootUncertified(String)
    case unknownIDFVersion(String)
    case tooManyForBundle(count: Int, limit: Int)
    case unknownFormat(String)

    public var kind: ErrorKind {
        switch self {
        case .empty, .nextRootUncertified: return .notFound
        case .unknownIDFVersion, .tooManyForBundle, .unknownFormat: return .policy
        }
    }

    public var description: String {
        switch self {
        case .empty:
            return "this store has no root that vouches for certificates (active or disabled, not expired): nothing to trust"
        case .nextRootUncertified(let name):
            return "the next root \(name) has no certificate yet, so firmware could not trust it before the rotation: certify it in advance first"
        case .unknownIDFVersion(let text):
            return "\(PolicyError.quoted(text)) is not an ESP-IDF version: give one like 5.3 or v5.4.1"
        case .tooManyForBundle(let count, let limit):
            return "\(count) anchors do not fit an ESP-IDF bundle of this layout (at most \(limit))"
        case .unknownFormat(let text):
            return "unknown trust store format \(PolicyError.quoted(text)): use pem, c, esp-crt-bundle or zephyr"
        }
    }
}
