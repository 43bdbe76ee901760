import ArgumentParser
import Foundation
import IoTCAKit

struct CACommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ca", abstract: "Create, import, list and disable certificate authorities.",
        subcommands: [Create.self, CreateService.self, Import.self, List.self, Show.self, Set.self, Disable.self, Enable.self, RotateRoot.self, PrepareRoot.self, VerificationCert.self, MoveKey.self])

    /// `ca create-service`: the service's own CAs, for a store made before init made them.
    struct CreateService: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create-service",
            abstract: "Create the service's own CAs (service-root, service) in a store made before init made them.",
            discussion: """
                They issue station, operator and claim certificates and the API's TLS certificate, and nothing else: \
                brokers trusting the devices' root never admit a service client, and clients of the API trust no \
                other server. Re-create existing stations, operators and claims afterwards (their bundles' root.pem \
                becomes the service root).
                """)
        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            try Output.run {
                let (root, service) = try storeOptions.authority().createServiceHierarchy()
                if output.json { return try Output.json([root, service]) }
                Output.line("Created \(root.name) (\(root.subject)) and \(service.name) (\(service.subject))")
            }
        }
    }

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a CA signed by another CA of the store (--parent), or an external one (--external --csr-out).")

        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var output: OutputOptions

        @Argument(help: "The new CA's name.")
        var name: String

        @Option(help: "The CA of this store that signs the new CA (it needs a path length above 0, e.g. root).")
        var parent: String?

        @Flag(help: "The new CA will be certified outside this store: write a CSR and wait for `ca import`.")
        var external = false

        @Option(help: ArgumentHelp("Where --external writes the CSR (PEM).", valueName: "FILE"))
        var csrOut: String?

        @Option(help: ArgumentHelp("Key type: \(KeyAlgorithm.namesForHelp) (default: the parent's, or ec-p256).", valueName: "TYPE"))
        var keyType: KeyAlgorithm?

        @Option(help: ArgumentHelp("Validity (default from the template, clipped to the parent's).", valueName: "DURATION"))
        var validity: ValidityPeriod?

        @Option(help: ArgumentHelp("A CA template name or path.", valueName: "NAME|PATH"))
        var template = "subordinate-ca"

        @OptionGroup var settings: SettingsOptions
        @OptionGroup var token: TokenOptions
        @OptionGroup var matterIDs: MatterIDOptions

        func validate() throws {
            if external && !matterIDs.attributes.isEmpty { throw ValidationError("--vid and --pid go with --parent") }
            if external {
                guard parent == nil else { throw ValidationError("--external and --parent exclude each other") }
                guard csrOut != nil else { throw ValidationError("--external needs --csr-out FILE") }
                guard validity == nil else { throw ValidationError("with --external the outside CA decides the validity") }
            } else {
                guard parent != nil else { throw ValidationError("give --parent CA, or --external --csr-out FILE") }
            }
        }

        func run() throws {
            try Output.run {
                let manager = try storeOptions.authority()
                let authority: Authority
                if external, let csrOut {
                    let (created, csr) = try manager.createExternalCA(name, keyType: keyType ?? .ecP256, template: template,
                                                                         token: try token.location())
                    try AtomicFile.write(csr, to: URL(fileURLWithPath: csrOut))
                    authority = created
                    if !output.json {
                        Output.line("Created CA \(name) (pending): have its CSR \(csrOut) signed, then run `iotca ca import \(name) --cert FILE`")
                    }
                } else {
                    authority = try manager.createCA(name, parent: parent ?? "", keyType: keyType, validity: validity, template: template,
                                                     token: try token.location(), attributes: matterIDs.attributes)
                    if !output.json {
                        Output.line("Created CA \(name) signed by \(parent ?? ""): \(authority.subject) until \(Output.date(authority.notAfter))")
                    }
                }
                let updated = settings.isEmpty ? authority : try manager.configureCA(
                    name, crlValidity: settings.crlValidity, crlURL: settings.crlURL, caIssuersURL: settings.caIssuersURL,
                    ocspURL: settings.ocspURL, onPublish: settings.onPublish)
                if output.json { try Output.json(updated) }
            }
        }
    }

    struct SettingsOptions: ParsableArguments {
        @Option(help: ArgumentHelp("How long each CRL of the CA is valid (default 7d).", valueName: "DURATION"))
        var crlValidity: ValidityPeriod?

        @Option(help: ArgumentHelp("CRL distribution point put in certificates the CA issues; \"\" removes it.", valueName: "URL"))
        var crlURL: String?

        @Option(help: ArgumentHelp("CA issuers URL (authorityInformationAccess) put in certificates the CA issues; \"\" removes it.", valueName: "URL"))
        var caIssuersURL: String?

        @Option(name: .customLong("ocsp-url"),
                help: ArgumentHelp("OCSP responder (authorityInformationAccess) put in certificates the CA issues; \"\" removes it.", valueName: "URL"))
        var ocspURL: String?

        @Option(name: .customLong("on-publish"),
                help: ArgumentHelp("Shell command run after each new CRL of the CA is written (IOTCA_CA, IOTCA_CRL_DER, IOTCA_CRL_PEM set), e.g. a broker's reload; \"\" removes it.", valueName: "COMMAND"))
        var onPublish: String?

        var isEmpty: Bool { crlValidity == nil && crlURL == nil && caIssuersURL == nil && ocspURL == nil && onPublish == nil }
    }

    struct Set: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change a CA's CRL validity, CRL URL, CA issuers URL and OCSP URL.")

        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var output: OutputOptions
        @Argument var name: String
        @OptionGroup var settings: SettingsOptions

        func validate() throws {
            if settings.isEmpty { throw ValidationError("give --crl-validity, --crl-url, --ca-issuers-url, --ocsp-url or --on-publish") }
        }

        func run() throws {
            try Output.run {
                let authority = try storeOptions.authority().configureCA(
                    name, crlValidity: settings.crlValidity, crlURL: settings.crlURL, caIssuersURL: settings.caIssuersURL,
                    ocspURL: settings.ocspURL, onPublish: settings.onPublish)
                if output.json { return try Output.json(authority) }
                Output.line("CA \(name): CRL validity \(authority.crlValidity / 86_400)d \(authority.crlValidity % 86_400 / 3_600)h, CRL URL \(authority.crlURL ?? "-"), CA issuers URL \(authority.caIssuersURL ?? "-"), OCSP URL \(authority.ocspURL ?? "-")")
            }
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Give an external CA the certificate its issuer signed.")

        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var output: OutputOptions

        @Argument(help: "The CA created with `ca create NAME --external`.")
        var name: String

        @Option(help: ArgumentHelp("The CA's certificate (PEM or DER).", valueName: "FILE"))
        var cert: String

        @Option(help: ArgumentHelp("The issuer certificates up to the root, PEM, leaf first.", valueName: "FILE"))
        var chain: String?

        func run() async throws {
            try await Output.run {
                let manager = try storeOptions.authority()
                let certificate = try Self.read(cert)
                let chainBytes = try chain.map(Self.read)
                let authority = try await manager.importCA(name, certificate: certificate, chain: chainBytes)
                if output.json { return try Output.json(authority) }
                Output.line("Imported CA \(name): \(authority.subject) until \(Output.date(authority.notAfter)); it is active")
            }
        }

        static func read(_ path: String) throws -> [UInt8] {
            guard let data = FileManager.default.contents(atPath: path), data.count <= 1 << 20 else {
                throw AuthorityError.importRejected(path, reason: "cannot read \(path) (or it is larger than 1 MiB)")
            }
            return Array(data)
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the CAs of the store.")

        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            try Output.run {
                let authorities = try storeOptions.authority().listAuthorities()
                if output.json { return try Output.json(authorities) }
                Output.table(
                    ["NAME", "KIND", "STATUS", "PARENT", "KEY", "NOT AFTER", "SUBJECT"],
                    authorities.map {
                        [$0.name, $0.kind.rawValue, $0.status.rawValue, $0.parentName ?? "-", $0.keyAlgorithm.rawValue,
                         Output.date($0.notAfter), $0.subject]
                    })
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one CA.")

        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var output: OutputOptions

        @Argument var name: String

        @Flag(help: "Print the CA certificate in PEM only (the CSR for a pending CA).")
        var pem = false

        func run() throws {
            try Output.run {
                let authority = try storeOptions.authority().authority(named: name)
                if pem {
                    if let der = authority.certificateDER {
                        return print(try IssuedCertificate(der: der).pem, terminator: "")
                    }
                    throw AuthorityError.pending(name)
                }
                // The record as it is (a token CA's key_file is its URI): scripts read this shape.
                if output.json { return try Output.json(authority) }
                let key = try storeOptions.authority().keyStatus(of: name)
                let fingerprints = try? authority.certificate().fingerprints()
                let keyFields: [(String, String)] = key.inToken
                    ? [("key", "in a PKCS#11 token: \(key.location)"),
                       ("key reachable", key.reachable.map { $0 ? "yes" : "NO: \(key.problem ?? "")" } ?? (key.problem ?? "not checked"))]
                    : [("key file", authority.keyFile), ("key encrypted", authority.keyEncrypted ? "yes" : "NO")]
                let fields: [(String, String)] = [
                    ("name", authority.name), ("kind", authority.kind.rawValue), ("status", authority.status.rawValue),
                    ("parent", authority.parentName ?? "-"), ("subject", authority.subject),
                    ("key type", authority.keyAlgorithm.rawValue)] + keyFields + [
                    ("not before", Output.date(authority.notBefore)), ("not after", Output.date(authority.notAfter)),
                    ("certificate sha256", fingerprints?.certificateSHA256Colons ?? "-"),
                    ("crl validity", "\(authority.crlValidity) s"), ("crl url", authority.crlURL ?? "-"),
                    ("ca issuers url", authority.caIssuersURL ?? "-"),
                    ("ocsp url", authority.ocspURL ?? "-"),
                    ("on publish", authority.onPublish ?? "-"),
                    ("spki sha256", fingerprints?.spkiSHA256Base64 ?? "-"),
                ]
                for (field, value) in fields { Output.line("\(field.padding(toLength: 19, withPad: " ", startingAt: 0)) \(value)") }
            }
        }
    }
}
