/// The CLI's exit statuses as the README documents them: the tests' oracle for what a process
/// returns, kept apart from the CLI's own mapping (`Sources/iotca/ExitStatus.swift`) so that a
/// change to the documented interface fails a test instead of changing both sides.
public enum CLIStatus: Int32, Sendable {
    case success = 0
    case internalError = 1
    case store = 3
    case passphrase = 4
    case rejected = 5
    case authorityUnavailable = 6
    case conflict = 7
    case notFound = 8
    case output = 9
    case forbidden = 10
    case usage = 64
}
