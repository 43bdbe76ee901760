import IoTCAKit

/// `HOST:PORT` or `[IPv6]:PORT`, as `--api-listen` and `--public-listen` take it.
public struct ListenAddress: Sendable, Equatable, Codable, CustomStringConvertible {
    public let host: String
    public let port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public init(_ text: String) throws(ServiceError) {
        let host: Substring, portText: Substring
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { throw .invalidConfiguration("listen address \(text)", reason: "write [IPv6]:PORT") }
            portText = rest.dropFirst()
        } else if let colon = text.lastIndex(of: ":") {
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        } else {
            throw .invalidConfiguration("listen address \(text)", reason: "write HOST:PORT, e.g. 127.0.0.1:8443")
        }
        guard !host.isEmpty, let port = Int(portText), (0...65_535).contains(port) else {
            throw .invalidConfiguration("listen address \(text)", reason: "write HOST:PORT with a port from 0 to 65535")
        }
        self.init(host: String(host), port: port)
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        try self.init(text)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
