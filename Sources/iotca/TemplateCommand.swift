import ArgumentParser
import Foundation
import IoTCAKit

struct TemplateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "template", abstract: "List, show, add and remove certificate templates.",
        subcommands: [List.self, Show.self, Add.self, Remove.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a template file the store's own, under the name it gives (on a PostgreSQL store, every node then has it).")
        @OptionGroup var storeOptions: StoreOptions
        @Argument(help: ArgumentHelp("The template (JSON, as `template show` prints).", valueName: "FILE")) var file: String
        @Flag(help: "Replace the store's template of the same name.") var replace = false

        func run() throws {
            try Output.run {
                let template = try storeOptions.authority().addTemplate(from: URL(fileURLWithPath: file), replace: replace)
                Output.line("Added template \(template.name) to the store")
            }
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove one of the store's own templates (a built-in one of that name is used again).")
        @OptionGroup var storeOptions: StoreOptions
        @Argument(help: ArgumentHelp("The template's name.", valueName: "NAME")) var name: String

        func run() throws {
            try Output.run {
                try storeOptions.authority().removeTemplate(name)
                Output.line("Removed template \(name) from the store")
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the templates: the store's templates/ folder, then the built-in ones.")
        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            try Output.run {
                let templates = try CertificateAuthority.templates(store: try storeOptions.storeLocation())
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
