import Foundation
import NIOCore
import IoTCAKit

/// How `iotca serve` runs: read from a JSON file (`--config`), then overridden by the command
/// line. Every field has a default, so no file is needed.
public struct ServiceConfiguration: Sendable, Equatable, Codable {
    /// The mutual-TLS API (and EST).
    public var apiListen = ListenAddress(host: "127.0.0.1", port: 8443)
    /// Plain HTTP for what certificates point at: CRLs, CA certificates; and health, metrics.
    public var publicListen = ListenAddress(host: "127.0.0.1", port: 8080)
    /// The API's certificate chain (PEM, leaf first) and key; when absent, the server uses a
    /// `server` certificate of the store's own issuing CA, made on first start and renewed
    /// when less than a third of its validity is left.
    public var tlsCertificate: String?
    public var tlsKey: String?
    /// The DNS name of the made server certificate (with 127.0.0.1 and ::1 as IP names).
    public var serverName = "localhost"
    /// Worker threads for the library's blocking work (SQLite, signing); 0 means four per core,
    /// so that threads waiting for the disk share a commit while others sign.
    public var workers = 0

    /// The worker threads `workers` asks for (0: four per core).
    public var workerThreads: Int { workers > 0 ? workers : 4 * System.coreCount }
    public var limits = Limits()

    public struct Limits: Sendable, Equatable, Codable {
        /// Larger request bodies get 413.
        public var maxBodyBytes = 64 * 1024
        /// Requests beyond this many at once get 503 with Retry-After.
        public var maxConcurrentRequests = 256
        /// A connection idle (no request arriving or being answered) this long is closed; it
        /// also bounds how long a client may take to send its headers.
        public var idleTimeoutSeconds = 30.0
        /// Per-client token bucket; nil (the default) is no limit.
        public var rateLimit: RateLimit?

        public init() {}

        enum CodingKeys: String, CodingKey {
            case maxBodyBytes = "max_body_bytes"
            case maxConcurrentRequests = "max_concurrent_requests"
            case idleTimeoutSeconds = "idle_timeout_seconds"
            case rateLimit = "rate_limit"
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            let defaults = Limits()
            maxBodyBytes = try container.decodeIfPresent(Int.self, forKey: .maxBodyBytes) ?? defaults.maxBodyBytes
            maxConcurrentRequests = try container.decodeIfPresent(Int.self, forKey: .maxConcurrentRequests) ?? defaults.maxConcurrentRequests
            idleTimeoutSeconds = try container.decodeIfPresent(Double.self, forKey: .idleTimeoutSeconds) ?? defaults.idleTimeoutSeconds
            rateLimit = try container.decodeIfPresent(RateLimit.self, forKey: .rateLimit)
        }
    }

    /// A client may make `burst` requests at once, then `perSecond` a second.
    public struct RateLimit: Sendable, Equatable, Codable {
        public var perSecond: Double
        public var burst: Double

        public init(perSecond: Double, burst: Double) {
            self.perSecond = perSecond
            self.burst = burst
        }

        enum CodingKeys: String, CodingKey {
            case perSecond = "per_second"
            case burst
        }
    }

    public init() {}

    enum CodingKeys: String, CodingKey {
        case apiListen = "api_listen"
        case publicListen = "public_listen"
        case tlsCertificate = "tls_cert"
        case tlsKey = "tls_key"
        case serverName = "server_name"
        case workers
        case limits
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = ServiceConfiguration()
        apiListen = try container.decodeIfPresent(ListenAddress.self, forKey: .apiListen) ?? defaults.apiListen
        publicListen = try container.decodeIfPresent(ListenAddress.self, forKey: .publicListen) ?? defaults.publicListen
        tlsCertificate = try container.decodeIfPresent(String.self, forKey: .tlsCertificate)
        tlsKey = try container.decodeIfPresent(String.self, forKey: .tlsKey)
        serverName = try container.decodeIfPresent(String.self, forKey: .serverName) ?? defaults.serverName
        workers = try container.decodeIfPresent(Int.self, forKey: .workers) ?? defaults.workers
        limits = try container.decodeIfPresent(Limits.self, forKey: .limits) ?? defaults.limits
    }

    /// Reads a configuration file; unknown keys are refused (a typo must not be ignored).
    /// - Throws: `ServiceError.configurationFile`.
    public static func load(_ path: String) throws(ServiceError) -> ServiceConfiguration {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw .configurationFile(path: path, reason: "it cannot be read")
        }
        do {
            try UnknownKeys.check(data)
            return try JSONDecoder().decode(ServiceConfiguration.self, from: data)
        } catch let error as ServiceError {
            throw .configurationFile(path: path, reason: error.description)
        } catch let error as DecodingError {
            throw .configurationFile(path: path, reason: JSONBody.describe(error))
        } catch {
            throw .configurationFile(path: path, reason: "\(error)")
        }
    }

    /// Checks what no type can: sizes and counts in range, the TLS files given together.
    /// - Throws: `ServiceError.invalidConfiguration`.
    public func validate() throws(ServiceError) {
        if (tlsCertificate == nil) != (tlsKey == nil) {
            throw .invalidConfiguration("tls_cert and tls_key", reason: "give both, or neither to use a certificate of the store's CA")
        }
        guard (1...16 * 1024 * 1024).contains(limits.maxBodyBytes) else {
            throw .invalidConfiguration("max_body_bytes \(limits.maxBodyBytes)", reason: "use 1 to 16777216")
        }
        guard (1...100_000).contains(limits.maxConcurrentRequests) else {
            throw .invalidConfiguration("max_concurrent_requests \(limits.maxConcurrentRequests)", reason: "use 1 to 100000")
        }
        guard limits.idleTimeoutSeconds > 0 && limits.idleTimeoutSeconds <= 3_600 else {
            throw .invalidConfiguration("idle_timeout_seconds \(limits.idleTimeoutSeconds)", reason: "use more than 0 and at most 3600")
        }
        if let rate = limits.rateLimit, !(rate.perSecond > 0 && rate.burst >= 1) {
            throw .invalidConfiguration("rate_limit", reason: "per_second must be above 0 and burst at least 1")
        }
        guard (0...512).contains(workers) else { throw .invalidConfiguration("workers \(workers)", reason: "use 0 (four per core) to 512") }
        do {
            try ThingName.validate(serverName, kind: "server")
        } catch {
            throw .invalidConfiguration("server_name \(serverName)", reason: error.description)
        }
    }

    /// The keys each object of the file may have.
    private enum UnknownKeys {
        static let top: Set<String> = ["api_listen", "public_listen", "tls_cert", "tls_key", "server_name", "workers", "limits"]
        static let limits: Set<String> = ["max_body_bytes", "max_concurrent_requests", "idle_timeout_seconds", "rate_limit"]
        static let rate: Set<String> = ["per_second", "burst"]

        static func check(_ data: Data) throws(ServiceError) {
            guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
                throw .invalidConfiguration("the file", reason: "it must be one JSON object")
            }
            try known(object, top, "")
            if let limitsObject = object["limits"] as? [String: Any] {
                try known(limitsObject, limits, "limits.")
                if let rateObject = limitsObject["rate_limit"] as? [String: Any] { try known(rateObject, rate, "limits.rate_limit.") }
            }
        }

        static func known(_ object: [String: Any], _ keys: Set<String>, _ prefix: String) throws(ServiceError) {
            for key in object.keys.sorted() where !keys.contains(key) {
                throw .invalidConfiguration("key \(prefix)\(key)", reason: "unknown (known: \(keys.sorted().joined(separator: ", ")))")
            }
        }
    }
}
