import Foundation
import Logging

/// What every request of a listener leaves behind, answered or refused: its metrics, and one
/// structured access-log line at `info`.
struct AccessLog {
    let listener: String
    let metrics: ServiceMetrics

    /// `recorder`: the route's metrics for `status`, when the caller keeps them.
    func record(method: String, path: String, route: String, status: Int, elapsed: Duration, client: ClientIdentity? = nil,
                problem: Problem? = nil, recorder: ServiceMetrics.RouteRecorder? = nil, logger: Logger) {
        if let recorder { recorder.record(elapsed) } else { metrics.record(listener: listener, route: route, status: status, elapsed: elapsed) }
        // The line is built only when it will be written: it is per request, on the hot path.
        guard logger.logLevel <= .info else { return }
        var metadata: Logger.Metadata = [
            "listener": .string(listener), "method": .string(method), "path": .string(path), "status": .stringConvertible(status),
            "ms": .string(String(format: "%.2f", Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1e3)),
        ]
        if let client { metadata["client"] = .string(client.auditName) }
        if let problem { metadata["problem"] = .string(problem.type) }
        logger.info("request", metadata: metadata)
    }
}
