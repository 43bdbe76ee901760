import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO

/// Connections to one PostgreSQL database, opened on demand up to `limit` and reused. The
/// library is synchronous (its callers run on worker threads, never on an event loop), so a
/// query is sent on postgres-nio's event loop and the calling thread waits for its answer.
final class PostgresConnectionPool: @unchecked Sendable {
    let location: PostgresLocation
    private let configuration: PostgresConnection.Configuration
    private let limit: Int
    private struct State {
        var idle: [PostgresConnection] = []
        var open = 0
        var nextID = 1
        var closed = false
    }
    /// Guards `state`, and is signalled when a connection goes back or a slot frees up.
    private let condition = NSCondition()
    private var state = State()

    static let logger = Logger(label: "iotca.postgres") { _ in SwiftLogNoOpLogHandler() }

    init(_ location: PostgresLocation, limit: Int) throws(StoreError) {
        self.location = location
        self.limit = max(1, limit)
        configuration = try Self.configuration(location)
    }

    private static func configuration(_ location: PostgresLocation) throws(StoreError) -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS
        do {
            switch location.sslMode {
            case .disable:
                tls = .disable
            case .allow, .prefer, .require:
                // libpq: encrypted, the server not verified, unless a root certificate is given.
                var settings = TLSConfiguration.makeClientConfiguration()
                if let root = location.sslRootCertificate {
                    settings.trustRoots = .file(root)
                    settings.certificateVerification = .noHostnameVerification
                } else {
                    settings.certificateVerification = .none
                }
                let context = try NIOSSLContext(configuration: settings)
                tls = location.sslMode == .require ? .require(context) : .prefer(context)
            case .verifyCA, .verifyFull:
                var settings = TLSConfiguration.makeClientConfiguration()
                if let root = location.sslRootCertificate { settings.trustRoots = .file(root) }
                settings.certificateVerification = location.sslMode == .verifyFull ? .fullVerification : .noHostnameVerification
                tls = .require(try NIOSSLContext(configuration: settings))
            }
        } catch {
            throw .badLocation(location.description, detail: "TLS set-up failed: \(error)")
        }
        var configuration = PostgresConnection.Configuration(
            host: location.host, port: location.port, username: location.user, password: location.password,
            database: location.database, tls: tls)
        configuration.options.connectTimeout = .seconds(Int64(location.connectTimeout))
        configuration.options.additionalStartupParameters = [("application_name", "iotca")]
        return configuration
    }

    /// Runs `body` on a connection of its own; a connection that failed is closed, not reused.
    func withConnection<T>(_ body: (PostgresConnection) throws -> T) throws -> T {
        let connection = try acquire()
        do {
            let result = try body(connection)
            release(connection, healthy: true)
            return result
        } catch {
            release(connection, healthy: !connection.isClosed && !Self.isConnectionFailure(error))
            throw error
        }
    }

    /// A connection taken out of the pool until `release` (a session that holds a lock).
    func acquire() throws -> PostgresConnection {
        condition.lock()
        while true {
            if state.closed {
                condition.unlock()
                throw StoreError.unavailable(location: location.description, detail: "the store was closed")
            }
            while let connection = state.idle.popLast() {
                if !connection.isClosed {
                    condition.unlock()
                    return connection
                }
                state.open -= 1
            }
            if state.open < limit { break }
            condition.wait()
        }
        state.open += 1
        state.nextID += 1
        let id = state.nextID
        condition.unlock()
        do {
            return try PostgresConnection.connect(on: MultiThreadedEventLoopGroup.singleton.next(), configuration: configuration,
                                                  id: id, logger: Self.logger).wait()
        } catch {
            condition.lock()
            state.open -= 1
            condition.signal()
            condition.unlock()
            throw Self.storeError(error, location: location.description)
        }
    }

    func release(_ connection: PostgresConnection, healthy: Bool) {
        condition.lock()
        let keep = healthy && !state.closed
        if keep { state.idle.append(connection) } else { state.open -= 1 }
        condition.signal()
        condition.unlock()
        if !keep { connection.close().whenComplete { _ in } }
    }

    /// postgres-nio insists every connection is closed before it goes away.
    deinit { close() }

    func close() {
        condition.lock()
        state.closed = true
        let idle = state.idle
        state.idle = []
        state.open -= idle.count
        condition.broadcast()
        condition.unlock()
        // Not waited for: a connection already broken may never report its close. The closure
        // keeps each connection alive until its close completes (postgres-nio insists).
        for connection in idle { connection.close().whenComplete { _ in _ = connection } }
    }

    /// Whether the connection itself failed (it cannot be trusted for another transaction).
    static func isConnectionFailure(_ error: any Error) -> Bool {
        if case StoreError.unavailable = error { return true }
        if case StoreError.commitUnknown = error { return true }
        if error is PostgresSQLConnection.ConnectionLost { return true }
        guard let error = error as? PSQLError else { return false }
        return error.code != .server
    }

    /// What the server or the connection said, as a `StoreError` a person can act on.
    static func storeError(_ error: any Error, location: String) -> StoreError {
        if let known = error as? StoreError { return known }
        guard let error = error as? PSQLError else { return .unavailable(location: location, detail: "\(error)") }
        guard error.code == .server, let info = error.serverInfo else {
            let underlying = error.underlying.map { ": \($0)" } ?? ""
            return .unavailable(location: location, detail: "\(error.code)\(underlying)")
        }
        let state = info[.sqlState] ?? ""
        let message = info[.message] ?? "\(error)"
        switch state {
        case "28P01", "28000": return .unavailable(location: location, detail: "login refused: \(message)")
        case "3D000": return .notFound(path: location)
        case "57P01", "57P02", "57P03", "08000", "08003", "08006", "53300":
            return .unavailable(location: location, detail: message)
        case "40001", "40P01", "55P03": return .busy(path: location)
        case "25006": return .readOnly(path: location)
        default: return .database("\(message) (SQLSTATE \(state))")
        }
    }
}
