import Foundation
@_spi(Fuzzing) @testable import IoTCAKit
import Testing

/// The hand-written base64 must equal Foundation's, in PEM's 64-character lines.
@Suite struct PEMTests {
    @Test func pemBodiesEqualFoundationBase64AtEveryLength() {
        var generator = SystemRandomNumberGenerator()
        for length in Array(0...200) + [1_000, 4_095, 65_536] {
            let der = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let lines = Data(der).base64EncodedString(options: .lineLength64Characters).replacingOccurrences(of: "\r\n", with: "\n")
            let expected = "-----BEGIN TEST-----\n" + lines + (lines.isEmpty ? "" : "\n") + "-----END TEST-----\n"
            #expect(PEM.encode(der, type: "TEST") == expected, "length \(length)")
        }
    }
}
