import Foundation
import IoTCAKit
import Testing
import TestSupport

@Suite struct TemplateTests {
    let catalog = TemplateCatalog.builtIn

    @Test(arguments: ["device", "server", "subordinate-ca", "root-ca"])
    func builtInTemplateEqualsTheFileInTemplatesFolder(name: String) throws {
        let file = ProcessRunner.repositoryRoot.appendingPathComponent("templates/\(name).json")
        let fromFile = try Template.parse(Data(contentsOf: file), source: file.path)
        #expect(try catalog.template(name) == fromFile)
    }

    @Test func deviceTemplateIsAClientCertificate() throws {
        let device = try catalog.template("device")
        #expect(device.keyType == .ecP256)
        #expect(device.extendedKeyUsage == ["clientAuth"])
        #expect(device.ca == false)
    }

    @Test func unknownFieldIsNamedWithTheFile() throws {
        let json = #"{"name":"t","keyType":"ec-p256","validity":"1d","subject":{"commonName":"x"},"keyUsage":["digitalSignature"],"ca":false,"extendedKeyUsages":["clientAuth"]}"#
        let error = #expect(throws: PolicyError.self) { try Template.parse(Data(json.utf8), source: "my.json") }
        guard case .invalidTemplate(let source, let field, _) = error else { Issue.record("\(String(describing: error))"); return }
        #expect(source == "my.json" && field == "extendedKeyUsages")
    }

    @Test(arguments: [
        (#""keyUsage":["signEverything"]"#, "keyUsage[0]"),
        (#""keyUsage":["digitalSignature"],"validity":"ten years""#, "validity"),
        (#""keyUsage":["keyCertSign"]"#, "keyUsage"),
        (#""keyUsage":["digitalSignature"],"keyType":"dsa-1024""#, "keyType"),
        (#""keyUsage":["digitalSignature"],"subject":{"commonName":"{{nope}}"}"#, "subject.commonName"),
        (#""keyUsage":["digitalSignature"],"subject":{"cn":"x"}"#, "subject.cn"),
        (#""keyUsage":["digitalSignature"],"extendedKeyUsage":["clientAuthh"]"#, "extendedKeyUsage[0]"),
        (#""keyUsage":["digitalSignature","keyEncipherment"]"#, "keyType"),
    ])
    func badValuesAreNamedByField(fragment: String, field: String) throws {
        // Later keys win in the object built below, so each fragment overrides the defaults.
        var object = try JSONSerialization.jsonObject(with: Data(#"{"name":"t","keyType":"ec-p256","validity":"1d","subject":{"commonName":"x"},"ca":false}"#.utf8)) as? [String: Any] ?? [:]
        let overrides = try JSONSerialization.jsonObject(with: Data("{\(fragment)}".utf8)) as? [String: Any] ?? [:]
        object.merge(overrides) { $1 }
        let data = try JSONSerialization.data(withJSONObject: object)
        let error = #expect(throws: PolicyError.self) { try Template.parse(data, source: "bad.json") }
        #expect(error?.description.hasPrefix("bad.json: field \(field):") == true, "\(String(describing: error))")
    }

    @Test func storeTemplateShadowsBuiltInAndPathsWork() throws {
        let folder = TemporaryFolder()
        var device = try catalog.template("device")
        device.validity = "7d"
        try FileManager.default.createDirectory(at: folder.appending("templates"), withIntermediateDirectories: true)
        try JSONEncoder().encode(device).write(to: folder.appending("templates/device.json"))
        let shadowed = TemplateCatalog(storeFolder: folder.url)
        #expect(try shadowed.template("device").validity == "7d")
        #expect(try catalog.template(folder.path("templates/device.json")).validity == "7d")
        #expect(throws: PolicyError.templateNotFound("missing")) { try catalog.template("missing") }
    }
}
