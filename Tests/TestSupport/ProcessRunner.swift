import Foundation

/// Runs a real program (openssl, the iotca binary) and captures what it printed.
public struct ProcessResult: Sendable {
    public let status: Int32
    public let stdout: String
    public let stderr: String
    public var succeeded: Bool { status == 0 }
}

public enum ProcessRunner {
    /// Runs `executable` (a path, or a name looked up on PATH) with stdin from `input` or
    /// /dev/null, so nothing can wait on a terminal, and terminates it after `timeout` seconds
    /// so no test can hang.
    @discardableResult
    public static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                           input: Data? = nil, directory: URL? = nil, timeout: TimeInterval = 120) throws -> ProcessResult {
        let process = Process()
        if executable.contains("/") {
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [executable] + arguments
        }
        if let environment { process.environment = environment }
        if let directory { process.currentDirectoryURL = directory }
        // Output goes to files, not pipes: a pipe's end inherited by another child (a broker
        // started meanwhile) would keep a reader waiting after this child has died.
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("iotca-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outputURL = scratch.appendingPathComponent("stdout"), errorURL = scratch.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: outputURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errorURL.path, contents: nil)
        let output = try FileHandle(forWritingTo: outputURL), error = try FileHandle(forWritingTo: errorURL)
        defer { try? output.close(); try? error.close() }
        process.standardOutput = output
        process.standardError = error
        let stdin = Pipe()
        process.standardInput = input == nil ? FileHandle.nullDevice : stdin
        try process.run()
        let pid = process.processIdentifier
        // SIGKILL: a child spawned from a worker thread inherits a mask blocking SIGTERM.
        let deadline = DispatchWorkItem { kill(pid, SIGKILL) }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: deadline)
        defer { deadline.cancel() }
        if let input {
            stdin.fileHandleForWriting.write(input)
            try stdin.fileHandleForWriting.close()
        }
        process.waitUntilExit()
        return ProcessResult(status: process.terminationStatus,
                             stdout: (try? String(contentsOf: outputURL, encoding: .utf8)) ?? "",
                             stderr: (try? String(contentsOf: errorURL, encoding: .utf8)) ?? "")
    }

    /// The `iotca` executable built beside the test bundle.
    public static var iotcaExecutable: String {
        let buildFolder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        return buildFolder.appendingPathComponent("iotca").path
    }

    /// The repository's root folder, found from this source file.
    public static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }
}

extension ProcessRunner {
    /// Starts `count` copies of `executable` at once and returns their exit statuses, lowest
    /// first: two factory lines or two operators doing the same thing at the same moment.
    public static func race(_ executable: String, _ arguments: [String], environment: [String: String],
                            count: Int = 2) throws -> [Int32] {
        let racers = (0..<count).map { _ -> Process in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
            process.environment = environment
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            return process
        }
        for racer in racers { try racer.run() }
        for racer in racers { racer.waitUntilExit() }
        return racers.map(\.terminationStatus).sorted()
    }
}
