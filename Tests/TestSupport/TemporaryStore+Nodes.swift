import Foundation
import IoTCAKit

extension TemporaryStore {
    /// A second opening of this store: another node (or process), with its own keyring.
    public func anotherNode(connections: Int = 4) throws -> Keyring {
        let keyring = Keyring(store: try Store.open(location, connections: connections, clock: clock.clock),
                              passphrase: .fixed(Passphrase(Self.passphrase)))
        keyring.keyProtection = .insecureFastForTests
        return keyring
    }

    /// A `meter` template (the device template with `validity`) in a file of this fixture's folder.
    public func meterTemplate(validity: String) throws -> URL {
        var template = try TemplateCatalog.builtIn.template("device")
        template.name = "meter"
        template.validity = validity
        let file = folder.appending("meter-\(validity).json")
        try JSONEncoder().encode(template).write(to: file)
        return file
    }
}
