import Foundation
@testable import IoTCAKit
import Testing
import TestSupport

extension MultiNodeTests {
    /// A node keeps a CA's facts between requests (`Store.issuanceFacts`); a change made
    /// elsewhere (another node, the CLI) must reach its very next request, and a thing issued
    /// through the other node must still be refused, now by the record.
    @Test func aCADisabledElsewhereIsRefusedByTheNextRequestOfEveryNode() throws {
        let cluster = try Cluster()
        try cluster.start("node-a")
        try cluster.start("node-b")
        func issue(_ node: String, _ thing: String) throws -> (status: Int, body: String) {
            try cluster.call(node, "/v1/certificates", as: "line1", json: #"{"thing":"\#(thing)"}"#)
        }
        // Both nodes now hold the CA's facts.
        #expect(try issue("node-a", "line1-0001").status == 201)
        #expect(try issue("node-b", "line1-0002").status == 201)
        // Issued through one node, refused through the other, whose facts cannot know it.
        let conflict = try issue("node-b", "line1-0001")
        #expect(conflict.status == 409, "\(conflict.body)")
        // Disabled through the store, as an operator's CLI on another machine does.
        _ = try cluster.authority.setStatus(.disabled, of: "issuing")
        for (node, thing) in [("node-a", "line1-0003"), ("node-b", "line1-0004")] {
            let refused = try issue(node, thing)
            #expect(refused.status == 503 && refused.body.contains("disabled"), "\(node): \(refused.status) \(refused.body)")
            #expect(try cluster.store.store.certificates(CertificateFilter(thing: thing)).isEmpty)
        }
        _ = try cluster.authority.setStatus(.active, of: "issuing")
        #expect(try issue("node-a", "line1-0003").status == 201)
        #expect(try cluster.store.store.certificates(CertificateFilter(thing: "line1-0001")).count == 1)
        for node in cluster.nodes.values { #expect(node.stop() == 0) }
        #expect(try cluster.findings().isEmpty)
    }
}
