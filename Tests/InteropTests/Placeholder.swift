import Testing
@testable import IoTCAKit
@Test func placeholder() { #expect(true) }
