import ArgumentParser
import Foundation
import IoTCAKit

/// `--vid` and `--pid`: a Matter certificate's vendor and product IDs, as the attributes the
/// Matter templates read (`vid`, `pid`).
struct MatterIDOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Matter vendor ID, four hex digits (e.g. FFF1): for the matter-* templates.", valueName: "VID"))
    var vid: String?

    @Option(help: ArgumentHelp("Matter product ID, four hex digits (e.g. 8000): for matter-pai and matter-dac.", valueName: "PID"))
    var pid: String?

    var attributes: [String: String] {
        var attributes: [String: String] = [:]
        if let vid { attributes["vid"] = vid }
        if let pid { attributes["pid"] = pid }
        return attributes
    }

    /// The attributes beside `--attr` ones, which may not name them too.
    func merged(into attributes: [String: String]) throws -> [String: String] {
        try attributes.merging(self.attributes) { _, _ in
            throw ValidationError("give a vendor or product ID once: --vid/--pid or --attr vid=/pid=")
        }
    }
}

/// `--cd FILE`: a Certification Declaration put in each matter bundle.
struct CertificationDeclarationOption: ParsableArguments {
    @Option(name: .customLong("cd"), help: ArgumentHelp("A Matter Certification Declaration (DER, as chip-cert gen-cd writes it) copied into each bundle as cd.der (--format matter).", valueName: "FILE"))
    var file: String?

    func bytes() throws -> [UInt8]? {
        guard let file else { return nil }
        // Bounded, and a regular file only: never /dev/zero or a FIFO.
        do {
            return try RequestFile.read(file, limit: CertificationDeclaration.maximumLength)
        } catch PolicyError.invalidCSR(let reason) {
            throw PolicyError.invalidValue("Certification Declaration", reason: reason)
        }
    }
}
