import ArgumentParser
import Foundation
import IoTCAKit
import IoTCAService

/// Options every command that touches a store takes.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The store: a folder, or a shared PostgreSQL database postgres://USER@HOST[:PORT]/DB[?sslmode=MODE] (default: $IOTCA_STORE, else ./ca-store).", valueName: "DIR|URL"))
    var store: String?

    @Option(name: .long, help: ArgumentHelp("A PostgreSQL store's password, from the first line of FILE (else the URL, $PGPASSWORD, ~/.pgpass).", valueName: "FILE"))
    var dbPasswordFile: String?

    @Option(name: .long, help: ArgumentHelp("With a PostgreSQL store: this node's folder, for its copies of the public files and the service's TLS files (default: $IOTCA_NODE_DIR, else ./iotca-node).", valueName: "DIR"))
    var nodeDir: String?

    @Option(name: .long, help: ArgumentHelp("Read the CA passphrase from the first line of FILE.", valueName: "FILE"))
    var passphraseFile: String?

    private static func environment(_ name: String) -> String? {
        ProcessInfo.processInfo.environment[name].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The store's folder or database. - Throws: `StoreError.badLocation` for a URL that
    /// cannot be used.
    func storeLocation() throws -> StoreLocation {
        let location = try StoreLocation(store ?? Self.environment("IOTCA_STORE") ?? "ca-store", passwordFile: dbPasswordFile,
                                         nodeFolder: nodeDir ?? Self.environment("IOTCA_NODE_DIR"),
                                         environment: ProcessInfo.processInfo.environment)
        if case .postgres(let database, _) = location, let warning = database.warning {
            FileHandle.standardError.write(Data("iotca: warning: \(warning)\n".utf8))
        }
        return location
    }

    @Option(name: .long, help: ArgumentHelp("Read the PKCS#11 token's user PIN from the first line of FILE (else $IOTCA_PKCS11_PIN, else a prompt).", valueName: "FILE"))
    var pinFile: String?

    var passphraseSource: PassphraseSource { TerminalPrompt.source(file: passphraseFile) }

    /// The user PIN of CA keys in a PKCS#11 token: never an argument (it would show in `ps`).
    var pinSource: PassphraseSource {
        TerminalPrompt.source(file: pinFile, variable: "IOTCA_PKCS11_PIN", purpose: "PKCS#11 user PIN")
    }

    /// The library's front door on this store: every command goes through it.
    func authority() throws -> CertificateAuthority {
        let authority = try CertificateAuthority(store: try storeLocation(), passphrase: passphraseSource)
        authority.keyring.publishHook = ShellPublishHook.run
        authority.keyring.tokenPIN = pinSource
        return authority
    }
}

/// Where `init` and `ca create` make CA keys in a PKCS#11 token instead of key files.
struct TokenOptions: ParsableArguments {
    @Option(name: .customLong("pkcs11"), help: ArgumentHelp("Make the CA keys in this token (RFC 7512: pkcs11:token=LABEL; with object= or id=, use that existing key).", valueName: "URI"))
    var uri: String?

    @Option(name: .customLong("pkcs11-module"), help: ArgumentHelp("The token's PKCS#11 library (e.g. /usr/lib/softhsm/libsofthsm2.so).", valueName: "PATH"))
    var module: String?

    func validate() throws {
        if (uri == nil) != (module == nil) { throw ValidationError("--pkcs11 and --pkcs11-module go together") }
    }

    /// The token location, with the module's path; nil for key files.
    func location() throws -> PKCS11URI? {
        guard let uri, let module else { return nil }
        var location = try PKCS11URI(parsing: uri)
        location.modulePath = URL(fileURLWithPath: module).standardizedFileURL.path
        return location
    }
}

struct OutputOptions: ParsableArguments {
    @Flag(name: .long, help: "Print JSON for scripts instead of text.")
    var json = false
}

/// `--server` and the client's TLS files: the command works through `iotca serve` instead of
/// a local store, with the same output and exit codes.
struct ServerOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Work through an iotca server instead of a local store (default: $IOTCA_SERVER).", valueName: "URL"))
    var server: String?
    @Option(help: ArgumentHelp("The client certificate (a station's or operator's cert.pem; default: $IOTCA_CLIENT_CERT).", valueName: "FILE"))
    var clientCert: String?
    @Option(help: ArgumentHelp("Its private key (default: $IOTCA_CLIENT_KEY).", valueName: "FILE"))
    var clientKey: String?
    @Option(help: ArgumentHelp("The CA certificate the server's certificate chains to: the store's root.pem (default: $IOTCA_SERVER_CA).", valueName: "FILE"))
    var serverCA: String?

    private static func environment(_ name: String) -> String? {
        ProcessInfo.processInfo.environment[name].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The client settings, or nil to work on the local store.
    func settings() throws -> APIClient.Settings? {
        guard let url = server ?? Self.environment("IOTCA_SERVER") else { return nil }
        guard let certificate = clientCert ?? Self.environment("IOTCA_CLIENT_CERT"),
              let key = clientKey ?? Self.environment("IOTCA_CLIENT_KEY"),
              let ca = serverCA ?? Self.environment("IOTCA_SERVER_CA") else {
            throw ValidationError("--server needs --client-cert, --client-key and --server-ca (or IOTCA_CLIENT_CERT, IOTCA_CLIENT_KEY, IOTCA_SERVER_CA)")
        }
        return APIClient.Settings(url: url, clientCertificate: certificate, clientKey: key, serverCA: ca)
    }

    /// Runs `body` with a client when a server is given, else `local`.
    func run<T>(remote body: (APIClient) async throws -> T, local: () async throws -> T) async throws -> T {
        guard let settings = try settings() else { return try await local() }
        let client = try APIClient(settings)
        do {
            let value = try await body(client)
            await client.shutdown()
            return value
        } catch {
            await client.shutdown()
            throw error
        }
    }
}
