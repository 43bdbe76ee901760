import ArgumentParser
import Foundation
import IoTCAKit
import IoTCAService
import Logging

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the CA as a network service: a mutual-TLS API (with EST and CMP for devices) and a public HTTP listener for CRLs, CA certificates, OCSP and CMP.",
        discussion: """
            The CA keys are unlocked once at start. SIGTERM or SIGINT stop accepting, finish the requests in \
            progress and exit 0. Clients are stations and operators made with `iotca station create` and \
            `iotca operator create`; devices enrol over EST or CMP with `iotca enrol-token` secrets or claim \
            certificates. Settings come from --config FILE (JSON), then these options.
            """)

    @OptionGroup var storeOptions: StoreOptions
    @Option(help: ArgumentHelp("The mutual-TLS API listener (default 127.0.0.1:8443).", valueName: "HOST:PORT"))
    var apiListen: String?
    @Option(help: ArgumentHelp("The plain-HTTP listener for CRLs, CA certificates, OCSP, CMP, /healthz, /metrics (default 127.0.0.1:8080).", valueName: "HOST:PORT"))
    var publicListen: String?
    @Option(help: ArgumentHelp("A JSON configuration file; options given here override it.", valueName: "FILE"))
    var config: String?
    @Option(help: ArgumentHelp("The API's certificate chain (PEM, leaf first); default: a server certificate of the store's CA.", valueName: "FILE"))
    var tlsCert: String?
    @Option(help: ArgumentHelp("The API certificate's private key (PEM).", valueName: "FILE"))
    var tlsKey: String?
    @Option(help: ArgumentHelp("The DNS name of the server certificate made from the store's CA (default localhost).", valueName: "NAME"))
    var serverName: String?
    @Option(help: ArgumentHelp("Worker threads for signing and the store (default: four per core).", valueName: "N"))
    var workers: Int?
    @Option(help: ArgumentHelp("Log level: trace, debug, info, notice, warning, error, critical.", valueName: "LEVEL"))
    var logLevel: String = "info"

    func run() async throws {
        try await Output.run {
            var settings = try config.map { path throws(ServiceError) in try ServiceConfiguration.load(path) } ?? ServiceConfiguration()
            if let apiListen { settings.apiListen = try ListenAddress(apiListen) }
            if let publicListen { settings.publicListen = try ListenAddress(publicListen) }
            if let tlsCert { settings.tlsCertificate = tlsCert }
            if let tlsKey { settings.tlsKey = tlsKey }
            if let serverName { settings.serverName = serverName }
            if let workers { settings.workers = workers }
            guard let level = Logger.Level(rawValue: logLevel) else {
                throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
            }
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
            let server = try IoTCAServer(store: try storeOptions.storeLocation(), passphrase: storeOptions.passphraseSource, tokenPIN: storeOptions.pinSource,
                                         configuration: settings, logger: Logger(label: "iotca.serve"))
            try await server.run { bound in
                // One line each on stdout, for scripts and tests that asked for port 0.
                FileHandle.standardOutput.write(Data("api listening on https://\(bound.api)\npublic listening on http://\(bound.public)\n".utf8))
            }
        }
    }
}
