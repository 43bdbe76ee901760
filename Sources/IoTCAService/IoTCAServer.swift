import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import IoTCAKit
import Logging
import NIOCore
import NIOSSL
import X509
import ServiceLifecycle
import Synchronization

/// `iotca serve`: one long-lived process on a store. The CA keys are unlocked once at start and
/// stay in memory; two listeners run until SIGTERM or SIGINT, which stop accepting, let the
/// requests in flight finish, and return.
public struct IoTCAServer: Sendable {
    public let configuration: ServiceConfiguration
    let keyring: Keyring
    let logger: Logger
    /// One per process: it keeps the CMP signer and the nonces lately seen.
    let cmpResponder = CMPResponder()

    /// Where each listener is bound (the port chosen when the configuration said 0).
    public struct Bound: Sendable {
        public var api: String
        public var `public`: String
    }

    /// Opens the store and unlocks every CA key that may sign (active CAs, and disabled ones,
    /// which still sign their CRLs), so a wrong passphrase stops the start, not a request.
    /// - Throws: `ServiceError` (configuration), `StoreError`, `KeyError`, `AuthorityError`.
    public init(store root: URL, passphrase: PassphraseSource, tokenPIN: PassphraseSource? = nil,
                            configuration: ServiceConfiguration, clock: WallClock = .system, logger: Logger) throws {
        try self.init(store: .folder(root), passphrase: passphrase, tokenPIN: tokenPIN, configuration: configuration, clock: clock, logger: logger)
    }

    /// The same, on a store in a folder or a shared database (one connection per worker thread).
    public init(store location: StoreLocation, passphrase: PassphraseSource, tokenPIN: PassphraseSource? = nil,
                configuration: ServiceConfiguration, clock: WallClock = .system, logger: Logger) throws {
        try configuration.validate()
        let authority = try CertificateAuthority(store: location, passphrase: passphrase, connections: configuration.workerThreads + 2,
                                                 clock: clock)
        authority.keyring.publishHook = ShellPublishHook.run
        authority.keyring.tokenPIN = tokenPIN
        for ca in try authority.listAuthorities() where ca.status == .active || ca.status == .disabled {
            _ = try authority.keyring.signer(for: ca, toIssue: false)
        }
        self.configuration = configuration
        self.keyring = authority.keyring
        self.logger = logger
    }

    /// Serves until SIGTERM or SIGINT. `ready` is called once both listeners are bound.
    public func run(ready: @escaping @Sendable (Bound) -> Void = { _ in }) async throws {
        let store = keyring.store
        let startup = CertificateAuthority(keyring: keyring)
        let tlsMaterial = try ServerCertificate.load(configuration, authority: startup)
        let threads = configuration.workerThreads
        let workers = Workers(keyring: keyring, threads: threads)
        let metrics = ServiceMetrics()
        let limits = configuration.limits
        let clock: @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }

        let pin = try ServiceRootPin(folder: store.layout.root).anchor(store: store)
        let serviceRoot = try Certificate(derEncoded: pin.der)
        if pin.origin == .pinnedNow {
            logger.warning("pinned the database's service root on first start; to pin one you checked, copy \(ServiceRootPin.fileName) from the node that made the store",
                           metadata: ["file": .string(ServiceRootPin(folder: store.layout.root).file.path)])
        } else if !pin.matchesStore {
            logger.error("the database's service-root differs from this node's pin: clients are checked against the pin; if the change is yours, replace the pin file",
                         metadata: ["file": .string(ServiceRootPin(folder: store.layout.root).file.path)])
        }
        let (api, publicRouter, ocsp) = try routers(workers: workers, metrics: metrics, clock: clock, serviceRoot: serviceRoot)

        var tls = TLSConfiguration.makeServerConfiguration(certificateChain: tlsMaterial.chain.map { .certificate($0) },
                                                           privateKey: .privateKey(tlsMaterial.key))
        tls.minimumTLSVersion = .tlsv12
        // Ask every client for a certificate, accept any in the handshake, and decide per request
        // from the store (`ClientAuthenticator`): a refusal is then a problem document naming
        // the reason, not a bare TLS alert, and a revocation applies to kept-alive connections.
        tls.certificateVerification = .optionalVerification
        let idle = TimeAmount.nanoseconds(Int64(limits.idleTimeoutSeconds * 1e9))
        let http = HTTP1Channel.Configuration(additionalChannelHandlers: [CloseUnlessKeepAlive.Installer()], idleTimeout: idle)
        var publicHTTP = http
        if !store.isShared {
            let door = OCSPFastPath.Door(routes: ocsp, access: AccessLog(listener: "public", metrics: metrics), logger: logger, clock: clock)
            publicHTTP = HTTP1Channel.Configuration(additionalChannelHandlers: [CloseUnlessKeepAlive.Installer(), OCSPFastPath.Installer(door: door)],
                                                    idleTimeout: idle)
        }
        let tlsChannel = TLSChannelConfiguration(tlsConfiguration: tls) { _, promise in promise.succeed(.certificateVerified) }

        let bound = BoundAddresses()
        let notify: @Sendable () -> Void = {
            if let addresses = bound.complete() { ready(addresses) }
        }
        let apiApplication = Application(
            router: api, server: try .tls(.http1(configuration: http), configuration: tlsChannel),
            configuration: .init(address: .hostname(configuration.apiListen.host, port: configuration.apiListen.port), serverName: nil),
            onServerRunning: { channel in bound.set(api: channel.localAddress); notify() }, logger: logger)
        let publicApplication = Application(
            router: publicRouter, server: .http1(configuration: publicHTTP),
            configuration: .init(address: .hostname(configuration.publicListen.host, port: configuration.publicListen.port), serverName: nil),
            onServerRunning: { channel in bound.set(public: channel.localAddress); notify() }, logger: logger)
        logger.info("starting", metadata: ["store": .string(store.location.description), "tls": .string(tlsMaterial.origin),
                                           "workers": .stringConvertible(threads)])
        let group = ServiceGroup(configuration: .init(services: [apiApplication, publicApplication, ScheduledWork(workers: workers, cmp: cmpResponder, logger: logger)],
                                                      gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch {
            try? await workers.shutdown()
            throw ServiceError.listen("\(configuration.apiListen) or \(configuration.publicListen)", reason: "\(error)")
        }
        try await workers.shutdown()
        logger.info("stopped")
    }
}

extension IoTCAServer {
    /// The two listeners' routers: the API (mutual TLS, `/v1` behind the client check, EST
    /// beside it) and the public one (OCSP, CRL and CA files, health, metrics), which is also
    /// served under the path of the store's public URL.
    func routers(workers: Workers, metrics: ServiceMetrics, clock: @escaping @Sendable () -> ContinuousClock.Instant,
                 serviceRoot: Certificate) throws -> (api: Router<APIContext>, public: Router<PublicContext>, ocsp: OCSPRoutes) {
        let store = keyring.store
        let limits = configuration.limits
        let api = Router(context: APIContext.self)
        let apiMethods = AllowedMethods(), publicMethods = AllowedMethods()
        api.add(middleware: ProblemMiddleware(listener: "api", metrics: metrics, clock: clock, allowed: apiMethods))
        api.add(middleware: ConcurrencyLimit(limit: limits.maxConcurrentRequests, inFlight: .init()))
        let peers = PeerCertificates(), authenticator = ClientAuthenticator(store: store, serviceRoot: serviceRoot, workers: workers)
        APIRoutes(workers: workers, metrics: metrics, bodyLimit: limits.maxBodyBytes, authentication: AuthenticationMiddleware(
            authenticator: authenticator, rateLimiter: limits.rateLimit.map { RateLimiter(perSecond: $0.perSecond, burst: $0.burst) },
            peers: peers)).add(to: api)
        // Devices, beside /v1 and not behind its client check: they prove themselves per route.
        ESTRoutes(workers: workers, metrics: metrics, peers: peers, authenticator: authenticator,
                  failures: RateLimiter(perSecond: ESTRoutes.failureRefill, burst: ESTRoutes.failureBurst)).add(to: api)

        let cmp = CMPRoutes(workers: workers, metrics: metrics, responder: cmpResponder, authenticator: authenticator,
                            failures: RateLimiter(perSecond: ESTRoutes.failureRefill, burst: ESTRoutes.failureBurst))
        // Over TLS beside EST, for devices that reach the CA there; on the public listener below.
        cmp.add(to: api) { ESTRoutes.sourceAddress($0) }

        // What certificates point at, over plain HTTP.
        let publicRouter = Router(context: PublicContext.self)
        publicRouter.add(middleware: ProblemMiddleware(listener: "public", metrics: metrics, clock: clock, allowed: publicMethods))
        publicRouter.add(middleware: ConcurrencyLimit(limit: limits.maxConcurrentRequests, inFlight: .init()))
        let prefix = (try store.setting("public_url")).flatMap { URL(string: $0)?.path }.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        // OCSP before the files, whose `:file` would otherwise take /ocsp.
        let ocsp = OCSPRoutes(responder: OCSPResponder(keyring: keyring), workers: workers, sharedStore: store.isShared, metrics: metrics,
                              prefix: prefix)
        ocsp.add(to: publicRouter)
        // CMP before the files too. Its messages protect themselves (RFC 9483 6.1), so it is
        // served here too, over plain HTTP: devices enrol before they could check a TLS server.
        cmp.add(to: publicRouter) { $0.channel.remoteAddress?.ipAddress ?? "unknown" }
        PublicRoutes(workers: workers, metrics: metrics, clock: store.clock, prefix: prefix).add(to: publicRouter)
        apiMethods.register(api)
        publicMethods.register(publicRouter)
        return (api, publicRouter, ocsp)
    }

    /// Every route as "METHOD /path" per listener, path parameters as `{name}`: what the
    /// OpenAPI document (`docs/openapi.yaml`) must describe, no more and no less.
    public func routeTable() async throws -> (api: [String], public: [String]) {
        let workers = Workers(keyring: keyring, threads: 1)
        let routers: (api: Router<APIContext>, public: Router<PublicContext>, ocsp: OCSPRoutes)
        do {
            let serviceRoot = try keyring.store.authority(named: ServiceHierarchy.rootName).certificate()
            routers = try self.routers(workers: workers, metrics: ServiceMetrics(), clock: { ContinuousClock.now }, serviceRoot: serviceRoot)
        } catch {
            try await workers.shutdown()
            throw error
        }
        try await workers.shutdown()
        return (routers.api.routes.map(Self.routeText).sorted(), routers.public.routes.map(Self.routeText).sorted())
    }

    /// "GET /v1/certificates/{serial}": Hummingbird describes a capture as OpenAPI writes a
    /// parameter; its `**` (the rest of the path) becomes `{rest}`.
    private static func routeText<Context>(_ route: Router<Context>.RouteDescription) -> String {
        let path = route.path.components.map { component in "\(component)" == "**" ? "{rest}" : "\(component)" }
        return "\(route.method) /" + path.joined(separator: "/")
    }
}

/// The two listeners' addresses, reported once both are known.
private final class BoundAddresses: Sendable {
    private let state = Mutex<(api: String?, public: String?, reported: Bool)>((nil, nil, false))

    func set(api address: SocketAddress?) { state.withLock { $0.api = address.map(Self.text) } }
    func set(public address: SocketAddress?) { state.withLock { $0.public = address.map(Self.text) } }

    func complete() -> IoTCAServer.Bound? {
        state.withLock { state in
            guard !state.reported, let api = state.api, let open = state.public else { return nil }
            state.reported = true
            return IoTCAServer.Bound(api: api, public: open)
        }
    }

    private static func text(_ address: SocketAddress) -> String {
        let host = address.ipAddress ?? "?"
        return host.contains(":") ? "[\(host)]:\(address.port ?? 0)" : "\(host):\(address.port ?? 0)"
    }
}
