/// One JSON object written as bytes, keys in the order given: callers list them sorted, as
/// `JSONEncoder.iotca` sorts them, so the text is the encoder's to the byte. Compact, or
/// pretty as `.prettyPrinted` lays out an object of strings and string lists. JSONEncoder
/// (reflection through Codable containers, then sorting) took longer than signing the
/// certificate it described.
public struct JSONObjectWriter {
    private(set) var bytes: [UInt8] = []
    private let pretty: Bool
    private var first = true

    public init(pretty: Bool = false, capacity: Int = 1024) {
        self.pretty = pretty
        bytes.reserveCapacity(capacity)
        bytes.append(UInt8(ascii: "{"))
    }

    private mutating func key(_ name: StaticString) {
        if !first { bytes.append(UInt8(ascii: ",")) }
        first = false
        if pretty { bytes.append(contentsOf: [0x0A, 0x20, 0x20]) }
        bytes.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(contentsOf: pretty ? [0x20, UInt8(ascii: ":"), 0x20] : [UInt8(ascii: ":")])
    }

    /// A string, or `null` for nil (as `encode(_:forKey:)` writes an absent optional).
    public mutating func text(_ name: StaticString, _ value: String?) {
        key(name)
        if let value { CompactJSON.append(value, to: &bytes) } else { bytes.append(contentsOf: "null".utf8) }
    }

    /// A string that is left out when nil (as `encodeIfPresent` does).
    public mutating func textIfPresent(_ name: StaticString, _ value: String?) {
        if let value { text(name, value) }
    }

    public mutating func list(_ name: StaticString, _ values: [String]) {
        key(name)
        bytes.append(UInt8(ascii: "["))
        for (index, value) in values.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            if pretty { bytes.append(contentsOf: [0x0A, 0x20, 0x20, 0x20, 0x20]) }
            CompactJSON.append(value, to: &bytes)
        }
        // JSONEncoder's pretty layout puts an empty line inside an empty list.
        if pretty { bytes.append(contentsOf: values.isEmpty ? [0x0A, 0x0A, 0x20, 0x20] : [0x0A, 0x20, 0x20]) }
        bytes.append(UInt8(ascii: "]"))
    }

    /// A value already written as compact JSON (a nested object).
    public mutating func json(_ name: StaticString, _ value: [UInt8]) {
        key(name)
        bytes.append(contentsOf: value)
    }

    /// The object, closed.
    public consuming func finish() -> [UInt8] {
        if pretty { bytes.append(0x0A) }
        bytes.append(UInt8(ascii: "}"))
        return bytes
    }
}
