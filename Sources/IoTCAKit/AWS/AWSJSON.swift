import Foundation

/// JSON as AWS's inputs and templates are written: objects, strings and booleans, encoded with
/// sorted keys so that the same export is the same bytes.
indirect enum AWSJSON: Encodable, Equatable {
    case string(String)
    case bool(Bool)
    case object([String: AWSJSON])

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let text): try container.encode(text)
        case .bool(let value): try container.encode(value)
        case .object(let members): try container.encode(members)
        }
    }

    static func ref(_ parameter: String) -> AWSJSON { .object(["Ref": .string(parameter)]) }

    /// Pretty, for files people read and the AWS CLI's `--cli-input-json`.
    var pretty: [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return Array((try? encoder.encode(self)) ?? Data()) + [UInt8(ascii: "\n")]
    }

    /// One line, for template bodies inside JSON strings and NDJSON lines.
    var compact: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }
}
