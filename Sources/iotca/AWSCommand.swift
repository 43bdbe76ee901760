import ArgumentParser
import Foundation
import IoTCAKit

struct AWSCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "aws",
        abstract: "Take a CA of the store to AWS IoT Core.",
        subcommands: [Export.self])

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "export",
            abstract: "Write the AWS CLI inputs that register the CA, provision its devices just in time, register issued certificates and revoke there.",
            discussion: """
                Writes into DIR: register-ca-certificate.json (with --registration-code or --sni-only; \
                with --role-arn a JITP template built from --template), register-certificate/THING.json \
                and bulk/ (provisioning-template.json, things.ndjson) for the things selected, \
                revocations/ID.json for certificates revoked since the last --revocations export, and \
                README.txt with the aws commands to run. Everything is checked against AWS's limits \
                before any file is written.
                """)

        @OptionGroup var storeOptions: StoreOptions

        @Option(help: ArgumentHelp("The folder to write.", valueName: "DIR")) var out: String
        @Option(help: "The CA to register.") var ca = "issuing"
        @Option(help: ArgumentHelp("The code from `aws iot get-registration-code`: adds a verification certificate.", valueName: "CODE"))
        var registrationCode: String?
        @Flag(help: "Register in SNI_ONLY mode (no verification certificate; devices must send SNI).") var sniOnly = false
        @Option(help: ArgumentHelp("The IAM role AWS IoT provisions with: adds the JITP registration config.", valueName: "ARN"))
        var roleArn: String?
        @Option(help: ArgumentHelp("An existing AWS IoT policy to attach to provisioned certificates.", valueName: "NAME"))
        var policyName: String?
        @Option(help: ArgumentHelp("The template of the devices JITP provisions.", valueName: "NAME")) var template = "device"
        @Option(help: ArgumentHelp("A file of thing names, one per line, to register.", valueName: "FILE")) var things: String?
        @Flag(help: "Register every thing's active certificate from the CA.") var all = false
        @Option(help: ArgumentHelp("A thing to register (repeatable).", valueName: "THING")) var thing: [String] = []
        @Flag(help: "Write update-certificate inputs for the certificates revoked since the last export.") var revocations = false

        func validate() throws {
            if registrationCode != nil && sniOnly { throw ValidationError("--registration-code and --sni-only exclude each other") }
            if [things != nil, all, !thing.isEmpty].filter({ $0 }).count > 1 { throw ValidationError("choose one of --things, --all and --thing") }
            if roleArn != nil && registrationCode == nil && !sniOnly {
                throw ValidationError("--role-arn configures the CA's registration: give --registration-code or --sni-only too")
            }
        }

        func run() throws {
            try Output.run {
                var export = AWSExport()
                export.ca = ca
                export.registration = registrationCode.map { .registrationCode($0) } ?? (sniOnly ? .sniOnly : nil)
                export.roleARN = roleArn
                export.policyName = policyName
                export.template = template
                export.revocations = revocations
                if all {
                    export.selection = .all
                } else if let things {
                    let text = try String(contentsOfFile: things, encoding: .utf8)
                    export.selection = .things(text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
                } else if !thing.isEmpty {
                    export.selection = .things(thing)
                }
                let plan = try storeOptions.authority().exportToAWS(export, to: URL(fileURLWithPath: out))
                Output.line("Wrote \(plan.files.count) file\(plan.files.count == 1 ? "" : "s") to \(out). Then:")
                for command in plan.commands { Output.line("  \(command)") }
            }
        }
    }
}
