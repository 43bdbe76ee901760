import ArgumentParser
import Foundation
import IoTCAKit

/// `iotca broker-config mosquitto|nginx --out DIR`: ready configurations for the servers
/// devices connect to, with the CRL reload that makes a revocation reach them.
struct BrokerConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "broker-config",
        abstract: "Write mosquitto and nginx configurations that let in the CA's devices and refuse revoked ones.",
        discussion: """
            mosquitto: MQTT over TLS (client certificate required, CN as username, crlfile) and a \
            loopback-only plain WebSockets listener. nginx: TLS for MQTT over WebSockets, forwarded to \
            that listener, and for HTTPS device requests (client certificate required, ssl_crl). \
            nginx fronts WebSockets because mosquitto's own WebSockets TLS listener ignores crlfile: \
            a revoked device would connect there. Both servers read CRLs only at start and on reload: \
            DIR/reload-crls rebuilds DIR/crl-chain.pem and reloads them; --set-on-publish makes every \
            new CRL run it. Nothing that exists with other contents is replaced without --force.
            """)

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: OutputOptions

    @Argument(help: ArgumentHelp("mosquitto, nginx, or both.", valueName: "SERVER"))
    var servers: [BrokerSetup.Server]

    @Option(help: ArgumentHelp("The folder the files are written into.", valueName: "DIR"))
    var out: String

    @Option(help: ArgumentHelp("The thing whose server certificate the servers present (issued into DIR/NAME/ unless there).", valueName: "NAME"))
    var serverThing = "broker"

    @Option(name: .customLong("san"), help: ArgumentHelp("More names for the server certificate: dns:NAME, ip:ADDR.", valueName: "TYPE:VALUE"))
    var subjectAltNames: [String] = []

    @Option(help: ArgumentHelp("A CA whose devices may connect (repeatable; default issuing). Its parents are trusted and CRL-checked too.", valueName: "CA"))
    var ca: [String] = []

    @Option(help: ArgumentHelp("The CA that issues the server certificate.", valueName: "CA"))
    var serverCa = "issuing"

    @Option(help: ArgumentHelp("Listen on this address only (default: every address).", valueName: "ADDRESS"))
    var bind: String?

    @Option(help: "MQTT over TLS port (mosquitto).") var mqttPort = 8883
    @Option(help: "MQTT over WebSockets over TLS port (nginx).") var wssPort = 443
    @Option(help: "HTTPS device request port (nginx).") var httpsPort = 8443
    @Option(help: "mosquitto's loopback-only plain WebSockets port that nginx forwards to.") var websocketsPort = 9001

    @Option(help: ArgumentHelp("nginx server_name (default: the server thing's name).", valueName: "NAME"))
    var serverName: String?

    @Option(help: ArgumentHelp("Where nginx forwards HTTPS device requests, e.g. http://127.0.0.1:8080.", valueName: "URL"))
    var httpsUpstream: String?

    @Option(help: ArgumentHelp("How mosquitto is made to re-read its CRL file.", valueName: "COMMAND"))
    var mosquittoReload = BrokerSetup.Server.mosquitto.defaultReload

    @Option(help: ArgumentHelp("How nginx is made to re-read its CRL file.", valueName: "COMMAND"))
    var nginxReload = BrokerSetup.Server.nginx.defaultReload

    @Option(help: ArgumentHelp("A group that may read the server's key (Debian's mosquitto reads it as the user mosquitto: --key-group mosquitto).", valueName: "GROUP"))
    var keyGroup: String?

    @Flag(help: "Set every CA's on-publish command to DIR/reload-crls, so each new CRL reaches the servers.")
    var setOnPublish = false

    @Flag(help: "Replace files with other contents and existing on-publish commands.")
    var force = false

    func run() throws {
        try Output.run {
            var setup = BrokerSetup(
                servers: servers, folder: URL(fileURLWithPath: out).standardizedFileURL, serverThing: serverThing,
                subjectAltNames: try subjectAltNames.map { text throws(PolicyError) in try SubjectAltName(text) },
                authorities: ca.isEmpty ? ["issuing"] : ca, serverAuthority: serverCa, bindAddress: bind,
                mqttPort: mqttPort, wssPort: wssPort, httpsPort: httpsPort, websocketsPort: websocketsPort,
                serverName: serverName, httpsUpstream: httpsUpstream,
                reloadCommands: [.mosquitto: mosquittoReload, .nginx: nginxReload], force: force, setOnPublish: setOnPublish)
            setup.keyGroup = keyGroup
            let result = try storeOptions.authority().writeBrokerConfiguration(setup)
            if output.json {
                struct Report: Encodable {
                    let files: [String: String]
                    let server_certificate: String
                    let server_certificate_issued: Bool
                    let crl_cas: [String]
                    let reload_script: String
                    let on_publish_set: [String]
                }
                return try Output.json(Report(
                    files: Dictionary(uniqueKeysWithValues: result.files.map { ($0.path, $0.change.rawValue) }),
                    server_certificate: result.serverCertificate.serial.hex, server_certificate_issued: result.issuedServerCertificate,
                    crl_cas: result.crlAuthorities, reload_script: result.reloadScript.path, on_publish_set: result.onPublishSet))
            }
            for file in result.files { Output.line("\(file.change.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0)) \(file.path)") }
            let certificate = result.serverCertificate
            Output.line("Server certificate of \(certificate.thing ?? serverThing): serial \(certificate.serial.hex)\(result.issuedServerCertificate ? " (issued now)" : ""), valid until \(Output.date(certificate.notAfter))")
            Output.line("CRLs checked: \(result.crlAuthorities.joined(separator: ", "))")
            Output.line("")
            if servers.contains(.mosquitto) && keyGroup == nil {
                Output.line("Debian's mosquitto reads its key as the user mosquitto: run again with --key-group mosquitto, or give it read access.")
            }
            if servers.contains(.mosquitto) {
                Output.line("mosquitto: include \(setup.folder.path)/mosquitto.conf (MQTT/TLS on \(mqttPort); plain WebSockets on 127.0.0.1:\(websocketsPort) for nginx only).")
            }
            if servers.contains(.nginx) {
                Output.line("nginx: include \(setup.folder.path)/nginx.conf in http {} (WSS on \(wssPort) at /mqtt, HTTPS on \(httpsPort)).")
                Output.line("  nginx fronts MQTT over WebSockets because mosquitto's WebSockets TLS listener ignores crlfile:")
                Output.line("  a revoked device would connect there. Through nginx it gets HTTP 400 and reaches nothing.")
            }
            if result.onPublishSet.isEmpty && !setOnPublish {
                Output.line("Revocations reach the servers only when they reload the CRLs: run")
                for name in result.crlAuthorities { Output.line("  iotca ca set \(name) --on-publish \(result.onPublishCommand)") }
                Output.line("(or pass --set-on-publish), and 'iotca crl publish --if-due && \(result.reloadScript.path)' from cron: an expired CRL refuses every device.")
            } else {
                Output.line("Every new CRL of \(result.crlAuthorities.joined(separator: ", ")) now runs \(result.reloadScript.path).")
                Output.line("From cron: iotca crl publish --if-due (an expired CRL refuses every device).")
            }
        }
    }
}

extension BrokerSetup.Server: ExpressibleByArgument {}
