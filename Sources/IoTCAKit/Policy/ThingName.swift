import Foundation

/// Rules for the names of things and CAs. A name becomes a folder name, a file name and part
/// of a certificate subject, so it is held to AWS IoT's thing-name alphabet plus `.`:
/// letters, digits, `_ - : .`, 1 to 128 characters, not starting with `.` or `-`.
public enum ThingName {
    public static let maximumLength = 128

    public static func validate(_ name: String, kind: String = "thing") throws(PolicyError) {
        guard !name.isEmpty else { throw .invalidThingName(name, reason: "a \(kind) name cannot be empty") }
        guard name.utf8.count <= maximumLength else {
            throw .invalidThingName(name, reason: "longer than \(maximumLength) characters")
        }
        for scalar in name.unicodeScalars where !isAllowed(scalar) {
            let shown = scalar.value < 0x20 || scalar.value == 0x7F
                ? String(format: "\\x%02X", scalar.value) : String(scalar)
            throw .invalidThingName(name, reason: "character '\(shown)' is not allowed (use letters, digits, _ - : .)")
        }
        if name.hasPrefix(".") || name.hasPrefix("-") {
            throw .invalidThingName(name, reason: "a \(kind) name cannot start with '.' or '-'")
        }
    }

    /// Whether a character may appear in a thing name.
    static func allowed(_ scalar: Unicode.Scalar) -> Bool { isAllowed(scalar) }

    private static func isAllowed(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "a"..."z", "A"..."Z", "0"..."9", "_", "-", ":", ".": return true
        default: return false
        }
    }
}
