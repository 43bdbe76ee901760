import Prometheus

/// What `/metrics` reports, in Prometheus' text format: requests by listener, route and status,
/// their latency, and the CA's own work (certificates issued, revoked; CRLs published).
final class ServiceMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private static let buckets: [Duration] = [
        .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5),
    ]

    /// OCSP answers by status, made once: an answer from the cache costs less than a registry lookup.
    private let ocspAnswers: [String: Counter]

    init() {
        var answers: [String: Counter] = [:]
        for status in ["successful", "malformedRequest", "internalError", "tryLater", "unauthorized"] {
            answers[status] = registry.makeCounter(name: "iotca_ocsp_responses_total", labels: [("status", status)])
        }
        ocspAnswers = answers
        ocspBesideRouter = registry.makeCounter(name: "iotca_ocsp_answered_beside_router_total")
    }

    func record(listener: String, route: String, status: Int, elapsed: Duration) {
        recorder(listener: listener, route: route, status: status).record(elapsed)
    }

    /// A route's request count for one status and its latency, looked up once by a caller that
    /// answers it often (a registry lookup costs as much as a cached OCSP answer's other work).
    struct RouteRecorder: Sendable {
        let count: Counter
        let latency: DurationHistogram

        func record(_ elapsed: Duration) {
            count.increment()
            latency.record(elapsed)
        }
    }

    func recorder(listener: String, route: String, status: Int) -> RouteRecorder {
        RouteRecorder(count: registry.makeCounter(name: "iotca_http_requests_total",
                                                  labels: [("listener", listener), ("route", route), ("status", String(status))]),
                      latency: registry.makeDurationHistogram(name: "iotca_http_request_duration_seconds",
                                                              labels: [("listener", listener), ("route", route)], buckets: Self.buckets))
    }

    func issued(template: String, keySource: String) {
        registry.makeCounter(name: "iotca_certificates_issued_total", labels: [("template", template), ("key", keySource)]).increment()
    }

    func revoked(count: Int) {
        registry.makeCounter(name: "iotca_certificates_revoked_total").increment(by: Int64(count))
    }

    func published(count: Int) {
        registry.makeCounter(name: "iotca_crls_published_total").increment(by: Int64(count))
    }

    /// An EST enrolment refused for its credentials (`failed`), or not tried because its source
    /// address failed too often (`rate_limited`).
    func cmpAnswered(request: String, outcome: String) {
        registry.makeCounter(name: "iotca_cmp_answered_total", labels: [("request", request), ("outcome", outcome)]).increment()
    }

    func estRefused(_ outcome: String) {
        registry.makeCounter(name: "iotca_est_refused_total", labels: [("outcome", outcome)]).increment()
    }

    /// OCSP answers written on the event loop beside the router (`OCSPFastPath`): with
    /// `iotca_ocsp_responses_total`, how many answers needed the router (a new signer, a
    /// pipelined request behind another, a client not reading, a shared store).
    let ocspBesideRouter: Counter

    func ocspAnswered(_ status: String) {
        (ocspAnswers[status] ?? registry.makeCounter(name: "iotca_ocsp_responses_total", labels: [("status", status)])).increment()
    }

    /// The text exposition format (version 0.0.4).
    func exposition() -> [UInt8] {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return buffer
    }
}
