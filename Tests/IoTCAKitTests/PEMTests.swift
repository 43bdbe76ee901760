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

    @Test func blocksReadBackAtEveryLengthAsFoundationDecodes() throws {
        var generator = SystemRandomNumberGenerator()
        for length in Array(1...200) + [1_000, 4_095] {
            let der = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let block = try #require(PEM.firstBlock(in: PEM.bytes(der, type: "CERTIFICATE REQUEST")), "length \(length)")
            #expect(block.label == "CERTIFICATE REQUEST")
            #expect(block.der == der, "length \(length)")
            // CRLF line ends, leading text and a trailing block, as files from other tools have.
            let crlf = "subject=CN=x\r\n" + PEM.encode(der, type: "X").replacingOccurrences(of: "\n", with: "\r\n") + PEM.encode([1], type: "Y")
            #expect(PEM.firstBlock(in: Array(crlf.utf8))?.der == der)
            #expect(Base64.decode(Array(Data(der).base64EncodedString().utf8)[...]) == der)
        }
    }

    @Test(arguments: [
        "-----BEGIN X-----\nAAAA\n-----END Y-----\n",  // labels differ
        "-----BEGIN X-----\nAAAA\n",  // no END line
        "-----BEGIN X-----\nAA*A\n-----END X-----\n",  // not base64
        "-----BEGIN X-----\nAAA\n-----END X-----\n",  // not whole quads
        "-----BEGIN X-----\nA===\n-----END X-----\n",  // too much padding
        "-----BEGIN X-----\nAA=A\n-----END X-----\n",  // padding inside a quad
        "-----BEGIN X-----\nAA==AAAA\n-----END X-----\n",  // data after padding
        "-----BEGIN X-----\nProc-Type: 4,ENCRYPTED\n\nAAAA\n-----END X-----\n",  // RFC 1421 headers
        "-----BEGIN X\n-----\nAAAA\n-----END X\n-----\n",  // a label across lines
        "no block at all",
    ])
    func malformedBlocksAreRefused(_ text: String) {
        #expect(PEM.firstBlock(in: Array(text.utf8)) == nil)
    }
}
