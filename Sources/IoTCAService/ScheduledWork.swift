import IoTCAKit
import Logging
import ServiceLifecycle

/// What the service does on its own, once a minute until it stops: revokes the certificates
/// devices replaced (EST re-enrolment) whose grace period is over, and publishes the CRLs that
/// changed; withdraws the certificates a CMP client never confirmed. `crl publish --if-due`
/// from cron does the same where no service runs.
struct ScheduledWork: Service {
    let workers: Workers
    let cmp: CMPResponder
    let logger: Logger
    var interval: Duration = .seconds(60)

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    let revoked = try await workers.run { try $0.supersedeDue() }
                    if !revoked.isEmpty {
                        logger.info("superseded after renewal", metadata: ["serials": .string(revoked.map(\.serial.hex).joined(separator: " "))])
                    }
                } catch {
                    logger.warning("scheduled supersession failed; retrying in a minute", metadata: ["error": .string("\(error)")])
                }
                do {
                    let withdrawn = try await workers.run { try cmp.withdrawUnconfirmed(ca: $0) }
                    if !withdrawn.isEmpty {
                        logger.info("withdrawn: no CMP confirmation in time", metadata: ["serials": .string(withdrawn.map(\.serial.hex).joined(separator: " "))])
                    }
                } catch {
                    logger.warning("withdrawing unconfirmed CMP certificates failed; retrying in a minute", metadata: ["error": .string("\(error)")])
                }
                try await Task.sleep(for: interval)
            }
        }
    }
}
