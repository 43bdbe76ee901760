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
                let catalog = TemplateCatalog(storeTemplates: StoreLayout(root: storeOptions.storeURL).templates)
                var rows: [[String]] = []
                struct Row: Encodable { let name: String; let origin: String; let description: String?; let error: String? }
                var report: [Row] = []
                for (result, origin) in catalog.all() {
                    switch result {
                    case .success(let template):
                        rows.append([template.name, origin, template.description ?? ""])
                        report.append(Row(name: template.name, origin: origin, description: template.description, error: nil))
                    case .failure(let error):
                        rows.append(["(invalid)", origin, error.description])
                        report.append(Row(name: "", origin: origin, description: nil, error: error.description))
                    }
                }
                if output.json { return try Output.json(report) }
                Output.table(["NAME", "ORIGIN", "DESCRIPTION"], rows)
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a template as JSON (copy it into STORE/templates/ to make your own).")
        @OptionGroup var storeOptions: StoreOptions
        @Argument(help: ArgumentHelp("A template name or path.", valueName: "NAME|PATH")) var name: String

        func run() throws {
            try Output.run {
                let catalog = TemplateCatalog(storeTemplates: StoreLayout(root: storeOptions.storeURL).templates)
                try Output.json(try catalog.template(name))
            }
        }
    }
}
