import Foundation

/// The operator's command run after a CA's new CRL is written (`on_publish`). A revocation that
/// is published but not loaded protects nobody: mosquitto reads its crlfile at start and on
/// SIGHUP, nginx its ssl_crl on reload. How the command runs (a shell, its environment) is the
/// front end's: the library reads no environment; it calls the `Runner` its keyring was given.
public enum PublishHook {
    /// Runs `command` for CA `authority`'s CRL files; nil when it succeeded, else what went wrong.
    public typealias Runner = @Sendable (_ command: String, _ authority: String, _ der: URL, _ pem: URL) -> String?

    /// `command` as a setting: nil leaves it, "" removes it.
    static func checked(_ command: String?) throws(PolicyError) -> String?? {
        guard let command else { return .none }
        if command.isEmpty { return .some(nil) }
        guard command.utf8.count <= 4_096, !command.contains("\0") else {
            throw .invalidValue("on-publish command", reason: "at most 4096 bytes, no NUL")
        }
        return .some(command)
    }
}

/// CRLs are published, but the command that makes servers load them failed: the revocations
/// and CRLs stand (they are recorded and on disk); the servers may still hold the old CRL.
public struct OnPublishFailed: IoTCAError, Equatable {
    public struct Failure: Sendable, Equatable {
        public let authority: String
        public let number: Int64
        public let reason: String
    }
    public let failures: [Failure]
    /// What was done before the command failed, for the caller to report.
    public let revoked: [String]
    public var kind: ErrorKind { .output }

    public var description: String {
        let what = failures.map { "CRL \($0.number) of \($0.authority) is published, but its on-publish command failed (\($0.reason))" }
        let done = revoked.isEmpty ? "" : "revoked \(revoked.joined(separator: ", ")); "
        return done + what.joined(separator: "; ") + "; the revocation stands: fix the command and publish again so servers load the CRL"
    }
}
