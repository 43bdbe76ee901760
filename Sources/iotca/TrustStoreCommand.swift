import ArgumentParser
import Foundation
import IoTCAKit

struct TrustStoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trust-store",
        abstract: "Write the trust anchors firmware compiles in: the roots, then the next root certified in advance.",
        discussion: """
            Formats: pem (concatenated PEM), c (one header with DER arrays and a NUL-terminated PEM \
            string for mbedtls_x509_crt_parse), esp-crt-bundle (ESP-IDF's x509_crt_bundle; \
            --idf-version picks the layout, default v5.4 and later) and zephyr (a folder of \
            NAME.der.inc files for tls_credential_add). Firmware built from it keeps connecting \
            after `iotca ca rotate-root`, which makes the next root's certificate, unchanged, the root.
            """)

    @OptionGroup var storeOptions: StoreOptions

    @Option(help: ArgumentHelp("pem, c, esp-crt-bundle or zephyr.", valueName: "FORMAT"))
    var format: String

    @Option(help: ArgumentHelp("Another CA to trust as well (repeatable), e.g. service-root for EST clients.", valueName: "NAME"))
    var ca: [String] = []

    @Option(help: ArgumentHelp("The ESP-IDF version the bundle is for (its layout changed in v5.4).", valueName: "VERSION"))
    var idfVersion: String?

    @Option(help: ArgumentHelp("The file to write (a folder for zephyr).", valueName: "PATH"))
    var out: String

    func run() throws {
        try Output.run {
            let format = try TrustStoreFormat(name: self.format, idfVersion: idfVersion)
            let anchors = try storeOptions.authority().trustAnchors(extra: ca)
            let written = try TrustStore.write(try TrustStore.render(anchors, as: format), to: URL(fileURLWithPath: out),
                                               asFolder: format.writesFolder)
            Output.line("Wrote \(written.map(\.path).joined(separator: ", ")): \(anchors.count) trust anchor\(anchors.count == 1 ? "" : "s")")
            for anchor in anchors {
                Output.line("  \(anchor.name) (\(anchor.role.rawValue)) sha256 \(anchor.sha256Hex)")
            }
        }
    }
}
