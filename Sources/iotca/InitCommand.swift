import ArgumentParser
import Foundation
import IoTCAKit

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create a store with a root CA `root` and an issuing CA `issuing` signed by it, and the service's own CAs `service-root` and `service`.")

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: OutputOptions

    @Option(help: "Organization (O) in CA and device subjects.")
    var org = "iotca"

    @Option(help: ArgumentHelp("CA key type: \(KeyAlgorithm.namesForHelp).", valueName: "TYPE"))
    var keyType: KeyAlgorithm = .ecP256

    @Option(help: ArgumentHelp("Root CA validity (default from the root-ca template: 20y).", valueName: "DURATION"))
    var rootValidity: ValidityPeriod?

    @Option(help: ArgumentHelp("Issuing CA validity (default from the subordinate-ca template: 10y).", valueName: "DURATION"))
    var issuingValidity: ValidityPeriod?

    @Option(help: ArgumentHelp("How long each CRL is valid (default 7d).", valueName: "DURATION"))
    var crlValidity: ValidityPeriod?

    @Option(help: ArgumentHelp("Where STORE/public will be served, e.g. http://pki.example.com: certificates then carry BASE/CA.crl as CRL distribution point and BASE/CA.crt as CA issuers URL.", valueName: "BASE-URL"))
    var publicURL: String?

    @Option(help: ArgumentHelp("standard (root and issuing CA), or matter: the root is a Matter PAA and the issuing CA a PAI (--vid, --pid).", valueName: "PROFILE"))
    var profile: StoreProfile = .standard

    @OptionGroup var matterIDs: MatterIDOptions

    @Flag(help: "Store CA keys unencrypted (tests and throwaway stores only).")
    var insecureNoPassphrase = false

    @OptionGroup var token: TokenOptions

    enum StoreProfile: String, ExpressibleByArgument, CaseIterable { case standard, matter }

    func validate() throws {
        if profile == .matter && matterIDs.vid == nil { throw ValidationError("--profile matter needs --vid (the vendor ID of its PAA and PAI)") }
        if profile == .standard && !matterIDs.attributes.isEmpty { throw ValidationError("--vid and --pid go with --profile matter") }
    }

    func run() throws {
        try Output.run {
            let location = try token.location()
            // Keys in a token need no passphrase; one given now protects file CAs made later.
            let passphrase = insecureNoPassphrase ? nil
                : location != nil ? try storeOptions.passphraseSource.passphraseIfAvailable()
                : try storeOptions.passphraseSource.passphrase(confirm: true)
            var options = StoreInitializer.Options(
                organization: org, keyType: keyType, rootValidity: rootValidity, issuingValidity: issuingValidity,
                passphrase: passphrase)
            options.crlValidity = crlValidity
            options.publicURL = publicURL
            options.token = location
            options.tokenPIN = storeOptions.pinSource
            if profile == .matter {
                options.matter = MatterIdentity(vendorID: try matterIDs.vid.map { text throws(PolicyError) in try MatterID(text, kind: "vendor ID") },
                                                productID: try matterIDs.pid.map { text throws(PolicyError) in try MatterID(text, kind: "product ID") })
            }
            let store = try storeOptions.storeLocation()
            let result = try CertificateAuthority.initialize(at: store, options: options)
            if output.json {
                struct Report: Encodable {
                    let store: String
                    let root: Authority
                    let issuing: Authority
                    let root_certificate_sha256: String
                    let root_spki_sha256: String
                }
                try Output.json(Report(
                    store: store.description, root: result.root, issuing: result.issuing,
                    root_certificate_sha256: result.rootFingerprints.certificateSHA256Hex,
                    root_spki_sha256: result.rootFingerprints.spkiSHA256Base64))
                return
            }
            if let location {
                Output.line("Created store \(store.description) (CA keys in the token \(location.token ?? ""), never extractable)")
            } else {
                Output.line("Created store \(store.description) (CA keys \(passphrase == nil ? "UNENCRYPTED" : "encrypted"))")
            }
            for authority in [result.root, result.issuing] {
                Output.line("  \(authority.name.padding(toLength: 8, withPad: " ", startingAt: 0)) \(authority.subject)  until \(Output.date(authority.notAfter))")
            }
            Output.line("  and the service's own CAs, service-root and service (stations, operators, claims, the API's TLS certificate)")
            Output.line("Root certificate SHA-256: \(result.rootFingerprints.certificateSHA256Colons)")
            Output.line("Root SPKI pin (sha256/base64): \(result.rootFingerprints.spkiSHA256Base64)")
        }
    }
}
