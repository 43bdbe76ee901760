import ArgumentParser
import Foundation
import IoTCAKit

struct TemplateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "template", abstract: "List and show certificate templates.",
        subcommands: [List.self, Show.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the templates: the store's templates/ folder, then the built-in ones.")
        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            try Output.run {
                let templates = CertificateAuthority.templates(store: try storeOptions.storeLocation())
                if output.json { return try Output.json(templates) }
                Output.table(["NAME", "ORIGIN", "DESCRIPTION"], templates.map { template in
                    template.error.map { ["(invalid)", template.origin, $0] } ?? [template.name, template.origin, template.description ?? ""]
                })
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a template as JSON (copy it into STORE/templates/ to make your own).")
        @OptionGroup var storeOptions: StoreOptions
        @Argument(help: ArgumentHelp("A template name or path.", valueName: "NAME|PATH")) var name: String

        func run() throws {
            try Output.run {
                try Output.json(try CertificateAuthority.template(name, store: try storeOptions.storeLocation()))
            }
        }
    }
}
