import ArgumentParser
import Foundation
import IoTCAKit

/// Printing and error reporting, the only things the CLI does besides parsing.
enum Output {
    /// Runs a command body; a library error becomes one `iotca: error:` line on stderr and the
    /// exit status the README lists for it.
    static func run(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch let error as any IoTCAError {
            fail(Advice.message(for: error), status: error.exitStatus)
        } catch let error as ExitCode {
            throw error
        } catch {
            fail("\(error)", status: .internalError)
        }
    }

    /// The same for a command body that awaits (an import validates its chain asynchronously).
    static func run(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let error as any IoTCAError {
            fail(Advice.message(for: error), status: error.exitStatus)
        } catch let error as ExitCode {
            throw error
        } catch {
            fail("\(error)", status: .internalError)
        }
    }

    static func fail(_ message: String, status: ExitStatus) -> Never {
        FileHandle.standardError.write(Data("iotca: error: \(message)\n".utf8))
        exit(status.rawValue)
    }

    static func json<T: Encodable>(_ value: T) throws {
        let data = try JSONEncoder.iotca.encode(value)
        FileHandle.standardOutput.write(data + Data("\n".utf8))
    }

    static func line(_ text: String = "") { print(text) }

    /// Aligned columns for list output.
    static func table(_ header: [String], _ rows: [[String]]) {
        let widths = header.indices.map { column in
            ([header] + rows).map { $0[column].count }.max() ?? 0
        }
        for row in [header] + rows {
            let cells = row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }
            print(cells.joined(separator: "  "))
        }
    }

    static func date(_ date: Date?) -> String {
        guard let date else { return "-" }
        return Timestamp.format(date)
    }
}

extension ValidityPeriod: ExpressibleByArgument {
    public init?(argument: String) { try? self.init(argument) }
}

extension KeyAlgorithm: ExpressibleByArgument {}
