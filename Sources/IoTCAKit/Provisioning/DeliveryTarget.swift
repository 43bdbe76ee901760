import Foundation

/// Where a bundle is delivered, as the store records it with a `recorded` certificate:
/// `FORMAT:PATH`, the path made canonical (symbolic links resolved), so that a re-run naming
/// the same folder another way is still the same target, and another folder never is.
public enum DeliveryTarget {
    public static func make(format: BundleFormat, out: URL) -> String {
        if format == .json { return handedOver }
        // Standard output resolves to a different pipe each run: name it, so a re-run to it
        // recovers what a killed one never confirmed.
        if format == .jsonl && out == JSONLinesOutput.standardOutput { return "jsonl:-" }
        return "\(format.rawValue):\(canonicalPath(out))"
    }

    /// The json form: the bundle goes to the caller with the answer, not to a file.
    static let handedOver = "json:-"

    /// realpath(3) of the deepest part of `url` that exists, with the rest appended: the output
    /// folder of a first run does not exist yet.
    static func canonicalPath(_ url: URL) -> String {
        var existing = url.standardizedFileURL
        var rest: [String] = []
        while existing.path != "/" {
            if let resolved = realpath(existing.path, nil) {
                defer { free(resolved) }
                var path = String(cString: resolved)
                for component in rest.reversed() { path += (path.hasSuffix("/") ? "" : "/") + component }
                return path
            }
            rest.append(existing.lastPathComponent)
            existing.deleteLastPathComponent()
        }
        return url.standardizedFileURL.path
    }
}
