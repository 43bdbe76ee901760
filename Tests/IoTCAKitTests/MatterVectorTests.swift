import Foundation
@_spi(Fuzzing) @testable import IoTCAKit
import Testing
import TestSupport

/// The Matter SDK's own commissioner test vectors (`Fixtures/matter-vectors`, copied from
/// connectedhomeip): iotca's profile check, which every PAA, PAI and DAC iotca signs must pass,
/// accepts each chain the SDK accepts and refuses each one it refuses.
@Suite struct MatterVectorTests {
    struct Vector: Decodable {
        let name: String
        let description: String
        let is_success_case: Bool
        let dac_cert: String
        let pai_cert: String
    }

    static let folder = ProcessRunner.repositoryRoot.appendingPathComponent("Tests/IoTCAKitTests/Fixtures/matter-vectors")

    static func vectors() throws -> [Vector] {
        try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".json") }.sorted().map { name in
            try JSONDecoder().decode(Vector.self, from: Data(contentsOf: folder.appendingPathComponent(name)))
        }
    }

    @Test func theSDKsVectorsAreJudgedAsTheSDKJudgesThem() throws {
        let paaText = try String(contentsOf: Self.folder.appendingPathComponent("paa-Chip-Test-PAA-FFF1-Cert.pem"), encoding: .utf8)
        let paa = try #require(PEMBundle.derDocuments(in: paaText, type: "CERTIFICATE").first)
        let vectors = try Self.vectors()
        #expect(vectors.count >= 40)
        #expect(vectors.contains { $0.is_success_case } && vectors.contains { !$0.is_success_case })
        for vector in vectors {
            let dac = try #require(Hex.decode(vector.dac_cert)), pai = try #require(Hex.decode(vector.pai_cert))
            // The commissioner compares the DAC's product ID with the device's Basic Information
            // (0x8000 in the generator); this one vector differs there alone.
            let product: MatterID? = vector.name == "struct_dac_subject_pid_mismatch" ? MatterID(0x8000) : nil
            var refusal: String?
            do {
                try MatterProfileCheck.checkChain(dac: dac, pai: pai, paa: paa, productID: product)
            } catch {
                refusal = "\(error)"
            }
            #expect((refusal == nil) == vector.is_success_case,
                    "\(vector.name) (\(vector.description)): \(refusal ?? "accepted")")
        }
    }
}
