import Foundation
@testable import IoTCAKit
import Testing
import TestSupport

extension SharedStoreTests {
    /// A CA disabled between an issuance's plan and its record (another node, or an operator's
    /// CLI, while the certificate was being signed): the record checks the CA again under the
    /// write lock, which `ca disable` takes exclusively, and records nothing.
    @Test(arguments: backends)
    func aCADisabledAfterThePlanIsRefusedByTheRecord(_ backend: TemporaryStore.Backend) throws {
        let fixture = try TemporaryStore(backend: backend)
        let first = try fixture.issue(IssueRequest(thing: "meter-1"))
        _ = try CertificateAuthority(keyring: try node(fixture)).setStatus(.disabled, of: "issuing")
        var signed = first.entry
        signed.thing = "meter-2"
        signed.serial = SerialNumber.random()
        #expect(throws: AuthorityError.disabled("issuing")) { try fixture.store.recordIssuance(signed, attributes: [:], renew: false) }
        #expect(try fixture.store.certificates(CertificateFilter(thing: "meter-2")).isEmpty)
        #expect(try fixture.store.events().filter { $0.subject == "meter-2" }.isEmpty)
        let report = try CertificateAuthority(keyring: fixture.keyring).doctor()
        #expect(findings(report).isEmpty, "\(findings(report))")
    }
}
