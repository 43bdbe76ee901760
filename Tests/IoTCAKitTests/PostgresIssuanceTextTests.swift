@testable import IoTCAKit
import Testing

/// Schema v9's record function is v6's text with replacements: an anchor that stopped matching
/// would leave the check out without a word, so each one is held to have taken.
@Suite struct PostgresIssuanceTextTests {
    @Test func everyReplacementOfTheV9FunctionTook() {
        let v9 = PostgresIssuance.functionV9
        #expect(v9.contains("FUNCTION iotca_record_issuances_v9("))
        #expect(!v9.contains("FUNCTION iotca_record_issuances("))
        #expect(v9.contains("    ca_status text;\n"))
        #expect(v9.contains("IF ca_status IS DISTINCT FROM 'active' THEN"))
        #expect(v9.contains("'iotca_record_issuances_v9 needs READ COMMITTED"))
        // The CA is checked first in the loop over the items, not in the loop over the events.
        let items = v9.range(of: "jsonb_array_elements(items) WITH ORDINALITY ORDER BY ordinality LOOP\n")
        let check = v9.range(of: "ca_status := (SELECT")
        let events = v9.range(of: "jsonb_array_elements(recorded)")
        if let items, let check, let events {
            #expect(items.upperBound <= check.lowerBound && check.upperBound < events.lowerBound)
        } else {
            Issue.record("an anchor of the v9 function is missing")
        }
    }
}
