import ArgumentParser
import Foundation
import IoTCAKit

/// `iotca enrol-token THING`: the one-time secret a device enrols with over EST.
struct EnrolTokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enrol-token",
        abstract: "Make a one-time secret for a thing to enrol with over EST (printed once; only its hash is kept).")

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: OutputOptions
    @Argument(help: "The thing that will enrol (its certificate's name).") var thing: String
    @Option(help: ArgumentHelp("The template it enrols with.", valueName: "NAME")) var template = "device"
    @Option(help: ArgumentHelp("How long the secret is good for (default 7d).", valueName: "DURATION")) var expires: ValidityPeriod?

    func run() throws {
        try Output.run {
            let token = try storeOptions.authority().createEnrolmentToken(thing: thing, template: template, expires: expires)
            if output.json { return try Output.json(token) }
            // The secret alone on stdout, for scripts; what it is for on stderr.
            Output.line(token.secret)
            FileHandle.standardError.write(Data("enrolment token for \(token.thing) (template \(token.template)), one use, until \(Timestamp.format(token.expiresAt))\n".utf8))
        }
    }
}
