import Foundation
import HTTPTypes
import Hummingbird
import IoTCAKit
import Logging
import NIOCore

/// The outermost middleware of both listeners: turns every error into RFC 9457 problem details
/// (`application/problem+json`), and writes one structured access-log line and the metrics for
/// every request, answered or refused.
struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    let listener: String
    let metrics: ServiceMetrics
    let clock: @Sendable () -> ContinuousClock.Instant
    /// The listener's routes: a path that exists, asked with another method, is a 405.
    var allowed: AllowedMethods? = nil

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = clock()
        var response: Response
        var problem: Problem?
        do {
            response = try await next(request, context)
        } catch {
            var answer = Self.problem(for: error)
            var allow: [String]?
            // (A path the router could not resolve although a route of this method matches it,
            // percent-encoded say, stays a 404.)
            if answer.name == .noRoute, let methods = allowed?.methods(for: request.uri.path), !methods.contains(request.method.rawValue) {
                answer = Problem(.methodNotAllowed, detail: "\(request.uri.path) takes \(methods.joined(separator: ", ")), not \(request.method.rawValue)")
                allow = methods
            }
            if answer.status >= 500 { context.logger.error("request failed", metadata: ["error": "\(error)"]) }
            problem = answer
            response = Self.response(answer)
            if let allow { response.headers[.allow] = allow.joined(separator: ", ") }
        }
        AccessLog(listener: listener, metrics: metrics).record(
            method: request.method.rawValue, path: request.uri.path, route: context.endpointPath ?? "unmatched", status: response.status.code,
            elapsed: clock() - started, client: (context as? APIContext)?.client, problem: problem, logger: context.logger)
        return response
    }

    static func problem(for error: any Error) -> Problem {
        switch error {
        case let problem as Problem: return problem
        case let error as any IoTCAError: return Problem(error)
        case is NIOTooManyBytesError: return Problem(.tooLarge, detail: "the request body is larger than this server accepts")
        case let error as DecodingError: return Problem(.badRequest, detail: "the JSON body does not fit: \(JSONBody.describe(error))")
        case let error as HTTPError:
            switch error.status.code {
            case 404: return Problem(.noRoute, detail: "no such resource")
            case 405: return Problem(.methodNotAllowed, detail: "this resource does not take that method")
            case 413: return Problem(.tooLarge, detail: "the request body is larger than this server accepts")
            case 400..<500: return Problem(.badRequest, detail: error.body ?? "the request is malformed")
            default: return Problem(.internalError, detail: "The server failed; its log has the details.")
            }
        default: return Problem(error)
        }
    }

    static func response(_ problem: Problem) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = Problem.mediaType
        if let seconds = problem.retryAfter { headers[.retryAfter] = String(seconds) }
        let body = (try? JSONEncoder.iotca.encode(problem)) ?? Data()
        return Response(status: .init(code: problem.status), headers: headers,
                        body: .init(byteBuffer: ByteBuffer(bytes: body + Data("\n".utf8))))
    }
}
