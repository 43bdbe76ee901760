/// Text that goes into generated C source (`iotca pins --format c`).
enum CIdentifiers {
    /// An upper-case C identifier per name, distinct from each other: `site-2`, `site_2` and
    /// `site.2` all sanitize to SITE_2, so the second and third become SITE_2_2 and SITE_2_3
    /// (in the order given, which is stable). Never starts with a digit or an underscore.
    static func unique(_ names: [String]) -> [String] {
        var used: Set<String> = []
        return names.map { name in
            var base = String(name.uppercased().unicodeScalars.map { scalar -> Character in
                ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar) ? Character(scalar) : "_"
            })
            if base.first.map({ !("A"..."Z").contains($0) }) ?? true { base = "CA_" + base }
            var candidate = base
            var index = 2
            while used.contains(candidate) {
                candidate = "\(base)_\(index)"
                index += 1
            }
            used.insert(candidate)
            return candidate
        }
    }

    /// `text` made safe inside a /* */ comment: printable ASCII stays, anything else becomes
    /// <U+XXXX>; `*/` (which would end the comment), `/*` (-Wcomment) and `??` (a trigraph
    /// start) are broken up with a space.
    static func commentText(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            if (0x20...0x7E).contains(scalar.value) {
                result.unicodeScalars.append(scalar)
            } else {
                result += "<U+" + String(scalar.value, radix: 16, uppercase: true) + ">"
            }
        }
        while result.contains("*/") || result.contains("/*") || result.contains("??") {
            result = result.replacingOccurrences(of: "*/", with: "* /").replacingOccurrences(of: "/*", with: "/ *")
                .replacingOccurrences(of: "??", with: "? ?")
        }
        return result
    }
}
