import Foundation

/// How a listing is printed: an aligned table, a JSON array, or JSON Lines (one compact object
/// a line, what `jq -c` and log pipelines read), written record by record.
public enum RecordFormat: String, Sendable, CaseIterable {
    case table, json, jsonl
}

/// Writes records as they come: a JSON array element by element (the same text
/// `JSONEncoder.iotca` gives for the whole array), JSON Lines, or a table whose column widths are
/// taken from the first rows (later, longer cells widen their line only).
public final class RecordWriter<Record: Encodable> {
    private let format: RecordFormat
    private let output: StreamWriter
    private let header: [String]
    /// A JSON array's indentation inside an enclosing object ("" at the top).
    private let indent: String
    private let cells: (Record) -> [String]
    private var pending: [[String]] = []
    /// Made once: `JSONEncoder.iotca` makes a new encoder each time it is asked.
    private lazy var pretty = JSONEncoder.iotca
    private var widths: [Int]?
    public private(set) var count = 0
    /// Rows a table waits for before fixing its column widths.
    static var widthSample: Int { 1_000 }

    public init(_ format: RecordFormat, to output: StreamWriter, indent: String = "", header: [String] = [],
                cells: @escaping (Record) -> [String] = { _ in [] }) {
        self.format = format
        self.indent = indent
        self.output = output
        self.header = header
        self.cells = cells
    }

    public func add(_ record: Record) throws {
        count += 1
        switch format {
        case .json:
            let text = String(decoding: try pretty.encode(record), as: UTF8.self)
            let inner = indent + "  "
            try output.write((count == 1 ? "[\n" : ",\n") + inner + text.replacingOccurrences(of: "\n", with: "\n" + inner))
        case .jsonl:
            try output.write(try JSONEncoder.iotcaCompact.encode(record))
            try output.write("\n")
        case .table:
            if let widths { return try writeRow(cells(record), widths: widths) }
            pending.append(cells(record))
            if pending.count >= Self.widthSample { try fixWidths() }
        }
    }

    /// Ends the listing (the closing bracket, the table's short tail) and flushes it.
    public func finish() throws {
        switch format {
        case .json:
            if count == 0 { try output.write("[\n") }
            try output.write("\n" + indent + "]" + (indent.isEmpty ? "\n" : ""))
        case .jsonl: break
        case .table: if widths == nil { try fixWidths() }
        }
        try output.flush()
    }

    private func fixWidths() throws {
        let rows = [header] + pending
        let fixed = header.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        widths = fixed
        for row in rows { try writeRow(row, widths: fixed) }
        pending = []
    }

    private func writeRow(_ row: [String], widths: [Int]) throws {
        let line = row.enumerated().map { index, cell in
            index == row.count - 1 || cell.count >= widths[index] ? cell : cell + String(repeating: " ", count: widths[index] - cell.count)
        }
        try output.write(line.joined(separator: "  ") + "\n")
    }
}
