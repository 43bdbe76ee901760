import ArgumentParser
import Foundation
import IoTCAKit
import IoTCAService

struct IssueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "issue",
        abstract: "Issue a certificate to a thing and write its bundle to OUT/THING/.")

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var serverOptions: ServerOptions
    @OptionGroup var output: OutputOptions

    @Argument(help: "The thing (device) name: letters, digits, _ - : . (at most 128).")
    var thing: String

    @Option(help: "The issuing CA.")
    var ca = "issuing"

    @Option(help: ArgumentHelp("A template name or the path of a template JSON file.", valueName: "NAME|PATH"))
    var template = "device"

    @Option(help: ArgumentHelp("Validity, e.g. 90d (default: the template's, clipped to the CA's).", valueName: "DURATION"))
    var validity: ValidityPeriod?

    @Option(name: .customLong("san"), help: ArgumentHelp("Extra subject alternative name: dns:NAME, ip:ADDR, uri:URI, email:ADDR.", valueName: "TYPE:VALUE"))
    var subjectAltNames: [String] = []

    @Option(name: .customLong("attr"), help: ArgumentHelp("Thing attribute for templates ({{attr.KEY}}).", valueName: "KEY=VALUE"))
    var attributes: [String] = []

    @OptionGroup var matterIDs: MatterIDOptions
    @OptionGroup var certificationDeclaration: CertificationDeclarationOption

    @Option(help: ArgumentHelp("Certify the key of this PKCS#10 request (PEM or DER) instead of generating one.", valueName: "FILE"))
    var csr: String?

    @Option(help: ArgumentHelp("Folder the bundle is written into.", valueName: "DIR"))
    var out = "bundles"

    @Option(help: ArgumentHelp("dir (OUT/THING/), pem (OUT/THING.pem), p12 (OUT/THING.p12), zip (OUT/THING.zip), json (stdout) or matter (OUT/THING/ with DER files for Matter factory tools).", valueName: "FORMAT"))
    var format: BundleFormat = .dir

    @Option(help: ArgumentHelp("PKCS#12 passphrase from the first line of FILE (else $IOTCA_BUNDLE_PASSPHRASE).", valueName: "FILE"))
    var bundlePassphraseFile: String?

    @Flag(help: "Issue although the thing has an active certificate; replaces its bundle folder.")
    var renew = false

    @Flag(help: "With --renew: revoke the thing's previous certificates (reason superseded) once the new one is recorded.")
    var supersede = false

    @Flag(help: "With --renew: certify the key of the bundle being renewed (OUT/THING/key.pem); its pin stays.")
    var keepKey = false

    @Flag(help: "With --renew: a fresh key even when the last bundle prepared one (next-key.pem) that clients may pin.")
    var newKey = false

    @Flag(help: "Replace an existing bundle folder.")
    var force = false

    func validate() throws {
        if supersede && !renew { throw ValidationError("--supersede goes with --renew") }
        if (keepKey || newKey) && !renew { throw ValidationError("--keep-key and --new-key go with --renew") }
        if keepKey && newKey { throw ValidationError("--keep-key or --new-key, not both") }
        if (keepKey || newKey) && csr != nil { throw ValidationError("with --csr the key is the request's") }
        if format == .jsonl { throw ValidationError("jsonl is batch's format: for one bundle as JSON use --format json") }
    }

    func run() async throws {
        try await Output.run {
            let csrBytes = try csr.map(Self.readRequest)
            var request = IssueRequest(
                thing: thing, authority: ca, template: template, validity: validity,
                subjectAltNames: try subjectAltNames.map { text throws(PolicyError) in try SubjectAltName(text) },
                attributes: try matterIDs.merged(into: try ThingAttributes.parse(attributes)), csr: csrBytes, renew: renew, force: force,
                supersede: supersede, renewalKey: keepKey ? .keep : newKey ? .new : .next)
            request.certificationDeclaration = try certificationDeclaration.bytes()
            let bundleSource = TerminalPrompt.source(file: bundlePassphraseFile, variable: TerminalPrompt.bundlePassphraseVariable,
                                                purpose: "bundle passphrase")
            let bundlePassphrase = format == .p12 ? try bundleSource.passphraseIfAvailable() : nil
            let result = try await serverOptions.run(remote: { client in
                try await RemoteProvisioner(client: client).issue(request, into: URL(fileURLWithPath: out), format: format,
                                                                  bundlePassphrase: bundlePassphrase)
            }, local: {
                try storeOptions.authority().issue(request, into: URL(fileURLWithPath: out), format: format, bundlePassphrase: bundlePassphrase)
            })
            if format == .json { return try Output.json(result.bundle.jsonForm) }
            if output.json {
                struct Report: Encodable {
                    let bundle: String
                    let manifest: BundleManifest
                }
                try Output.json(Report(bundle: result.folder.path, manifest: result.bundle.manifest))
                return
            }
            Output.line("Issued \(thing): serial \(result.entry.serial.hex), valid until \(Output.date(result.entry.notAfter))")
            if format.isFolder {
                Output.line("Bundle: \(result.folder.path)/ (\(result.bundle.manifest.files.joined(separator: ", ")))")
            } else {
                Output.line("Bundle: \(result.folder.path)")
            }
            for serial in result.superseded {
                Output.line("Revoked the previous certificate \(serial.hex) (superseded)")
            }
        }
    }

    static func readRequest(_ path: String) throws -> [UInt8] {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw PolicyError.invalidCSR(reason: "cannot read \(path)")
        }
        defer { try? handle.close() }
        // Read one byte past the limit so an oversized file is refused without reading it all.
        let data = (try? handle.read(upToCount: CSRCheck.maximumSize + 1)) ?? nil
        return Array(data ?? Data())
    }
}

extension BundleFormat: ExpressibleByArgument {}
