import Foundation

/// One device to provision, as a batch file lists it.
public struct BatchRow: Sendable, Equatable {
    public var line: Int
    public var thing: String
    public var template: String?
    /// A CSR file, relative to the batch file's folder.
    public var csr: String?
    public var attributes: [String: String]
}

/// A row that cannot be issued, with the line it came from.
public struct BatchRowError: Sendable, Equatable, Encodable {
    public var line: Int
    public var thing: String?
    public var error: String
    /// The library error behind it, for a front end's own advice (not encoded, not compared).
    public var cause: (any IoTCAError)?

    public init(line: Int, thing: String?, error: String, cause: (any IoTCAError)? = nil) {
        self.line = line
        self.thing = thing
        self.error = error
        self.cause = cause
    }

    enum CodingKeys: String, CodingKey { case line, thing, error }

    public static func == (lhs: BatchRowError, rhs: BatchRowError) -> Bool {
        lhs.line == rhs.line && lhs.thing == rhs.thing && lhs.error == rhs.error
    }

    /// `FILE:LINE: 'THING': ERROR` for stderr; the thing is quoted with control characters
    /// escaped, since a hostile row must not write escape sequences to an operator's terminal.
    public func message(file: String) -> String {
        "\(file):\(line): \(thing.map(PolicyError.quoted) ?? "-"): \(error)"
    }
}

/// Reads batch files: CSV with a header naming `thing` and optionally `template`, `csr` and
/// attribute columns, or JSON Lines with the same keys (attributes as more keys or an
/// `attributes` object). Bad rows are reported by line and do not stop the others.
public enum BatchFile {
    public static func read(_ url: URL) throws -> (rows: [BatchRow], errors: [BatchRowError]) {
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw PolicyError.invalidValue("batch file", reason: "cannot read \(url.path): \((error as NSError).localizedDescription)")
        }
        let firstContent = text.first { !$0.isWhitespace }
        return firstContent == "{" ? jsonLines(text) : try csv(text, source: url.path)
    }

    @_spi(Fuzzing) public static func jsonLines(_ text: String) -> (rows: [BatchRow], errors: [BatchRowError]) {
        var rows: [BatchRow] = [], errors: [BatchRowError] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = index + 1
            guard !line.trimmingCharacters(in: .whitespaces).isEmpty else { continue }
            guard let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] else {
                errors.append(BatchRowError(line: number, thing: nil, error: "not a JSON object"))
                continue
            }
            guard let thing = object["thing"] as? String else {
                errors.append(BatchRowError(line: number, thing: nil, error: "no \"thing\" string"))
                continue
            }
            let nested = object["attributes"] as? [String: Any] ?? [:]
            // 4097 read as hex would be PID 0x4097, as decimal 0x1001: Matter IDs come as strings.
            if let key = ["vid", "pid"].first(where: { (object[$0] ?? nested[$0]).map { !($0 is String) } ?? false }) {
                errors.append(BatchRowError(line: number, thing: thing, error: "\"\(key)\" must be a string of four hex digits such as \"FFF1\", not a JSON number"))
                continue
            }
            var attributes: [String: String] = [:]
            for (key, value) in object where !["thing", "template", "csr", "attributes"].contains(key) {
                attributes[key] = value as? String ?? "\(value)"
            }
            for (key, value) in nested { attributes[key] = value as? String ?? "\(value)" }
            rows.append(BatchRow(line: number, thing: thing, template: object["template"] as? String,
                                 csr: object["csr"] as? String, attributes: attributes))
        }
        return (rows, errors)
    }

    @_spi(Fuzzing) public static func csv(_ text: String, source: String) throws -> (rows: [BatchRow], errors: [BatchRowError]) {
        let records = parseCSV(text)
        guard let (headerLine, header) = records.first else {
            throw PolicyError.invalidValue("batch file", reason: "\(source) is empty")
        }
        let columns = header.map { $0.trimmingCharacters(in: .whitespaces) }
        guard let thingColumn = columns.firstIndex(of: "thing") else {
            throw PolicyError.invalidValue("batch file", reason: "\(source) line \(headerLine): the header needs a `thing` column")
        }
        var rows: [BatchRow] = [], errors: [BatchRowError] = []
        for (line, fields) in records.dropFirst() {
            if fields.allSatisfy({ $0.isEmpty }) { continue }
            guard fields.count == columns.count else {
                errors.append(BatchRowError(line: line, thing: fields.indices.contains(thingColumn) ? fields[thingColumn] : nil,
                                            error: "\(fields.count) fields where the header has \(columns.count)"))
                continue
            }
            var row = BatchRow(line: line, thing: fields[thingColumn], template: nil, csr: nil, attributes: [:])
            for (index, column) in columns.enumerated() where index != thingColumn && !fields[index].isEmpty {
                switch column {
                case "template": row.template = fields[index]
                case "csr": row.csr = fields[index]
                default: row.attributes[column] = fields[index]
                }
            }
            rows.append(row)
        }
        return (rows, errors)
    }

    /// RFC 4180 fields: quoted fields may hold commas, quotes ("") and line breaks. Each record
    /// comes with the line it starts on.
    static func parseCSV(_ text: String) -> [(Int, [String])] {
        var records: [(Int, [String])] = []
        var fields: [String] = [], field = "", quoted = false, line = 1, recordLine = 1
        var iterator = text.unicodeScalars.makeIterator()
        var pending: Unicode.Scalar? = nil
        func next() -> Unicode.Scalar? {
            if let scalar = pending { pending = nil; return scalar }
            return iterator.next()
        }
        while let scalar = next() {
            if quoted {
                if scalar == "\"" {
                    if let following = next() {
                        if following == "\"" { field.unicodeScalars.append("\"") } else { quoted = false; pending = following }
                    } else {
                        quoted = false
                    }
                } else {
                    if scalar == "\n" { line += 1 }
                    field.unicodeScalars.append(scalar)
                }
                continue
            }
            switch scalar {
            case "\"": quoted = true
            case ",": fields.append(field); field = ""
            case "\r": continue
            case "\n":
                fields.append(field)
                records.append((recordLine, fields))
                fields = []
                field = ""
                line += 1
                recordLine = line
            default: field.unicodeScalars.append(scalar)
            }
        }
        if !field.isEmpty || !fields.isEmpty {
            fields.append(field)
            records.append((recordLine, fields))
        }
        return records
    }
}
