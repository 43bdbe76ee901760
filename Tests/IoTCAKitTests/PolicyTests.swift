import Foundation
import IoTCAKit
import Testing
import TestSupport
import X509

@Suite struct PolicyTests {
    @Test func validityPeriods() throws {
        #expect(try ValidityPeriod("365d").seconds == 365 * 86_400)
        #expect(try ValidityPeriod("2w").seconds == 14 * 86_400)
        #expect(try ValidityPeriod("1y").seconds == 365 * 86_400)
        for bad in ["", "d", "10", "-5d", "0d", "5x", "99999999999y"] {
            #expect(throws: PolicyError.self) { try ValidityPeriod(bad) }
        }
    }

    @Test(arguments: ["device-42", "a", "sensor_01:eu.west", String(repeating: "x", count: 128)])
    func goodThingNames(name: String) throws {
        try ThingName.validate(name)
    }

    @Test(arguments: ["", "a/b", "..", ".hidden", "-rf", "a b", "nul\u{0}byte", "tab\there", "é", String(repeating: "x", count: 129), String(repeating: "y", count: 10_000)])
    func hostileThingNamesAreRefused(name: String) {
        let error = #expect(throws: PolicyError.self) { try ThingName.validate(name) }
        // The message never carries raw control characters into a terminal or a log line.
        #expect(error?.description.unicodeScalars.contains { $0.value < 0x20 } == false)
    }

    @Test func subjectAltNames() throws {
        #expect(try SubjectAltName("dns:Broker.Example.com").description == "dns:broker.example.com")
        #expect(try SubjectAltName("ip:127.0.0.1").kind == .ip)
        #expect(try SubjectAltName("ip:::1").kind == .ip)
        #expect(try SubjectAltName("uri:urn:iotca:thing:x").kind == .uri)
        #expect(try SubjectAltName("uri:https://broker.example/x").kind == .uri)
        #expect(try SubjectAltName("uri:a+b-c.9:x").kind == .uri)
        // RFC 3986 schemes: a letter, then letters, digits, + - . ; and only printable ASCII.
        for bad in ["broker", "dns:", "dns:-bad-.com", "ip:300.1.1.1", "uri:nocolon", "uri::no-scheme", "uri:1abc:x", "uri:a_b:x",
                    "uri:urn:caf\u{E9}", "uri:urn:a\u{7F}", "email:nobody", "dns:a b", "x400:foo"] {
            #expect(throws: PolicyError.self) { try SubjectAltName(bad) }
        }
    }

    @Test func attributes() throws {
        #expect(try ThingAttributes.parse(["model=m4", "site=lyon=2"]) == ["model": "m4", "site": "lyon=2"])
        #expect(throws: PolicyError.self) { try ThingAttributes.parse(["novalue"]) }
        #expect(throws: PolicyError.self) { try ThingAttributes.parse(["bad key=1"]) }
        #expect(throws: PolicyError.self) { try ThingAttributes.parse(["k=line\nbreak"]) }
    }

    @Test func templateRendersSubjectAndNamesFromThingAndAttributes() throws {
        var template = try TemplateCatalog.builtIn.template("device")
        template.subject.organizationalUnit = "{{attr.site}}"
        template.subject.country = "FR"
        template.subjectAltNames = ["uri:urn:iotca:{{ca}}:{{thing}}", "dns:{{thing}}.{{attr.site}}.example"]
        let policy = IssuancePolicy(template: template, thing: "cam-7", organization: "Acme",
                                    attributes: ["site": "lyon"], extraSubjectAltNames: [try SubjectAltName("ip:10.0.0.7")])
        let profile = try policy.profile(issuerName: "issuing", issuer: nil)
        // RFC 4514 strings list the last RDN first: in DER the order is C, O, OU, CN.
        #expect(profile.subject.description == "CN=cam-7,OU=lyon,O=Acme,C=FR")
        #expect(profile.subjectAltNames.map(\.description) == ["uri:urn:iotca:issuing:cam-7", "dns:cam-7.lyon.example", "ip:10.0.0.7"])

        let missing = IssuancePolicy(template: template, thing: "cam-7", organization: "Acme")
        #expect(throws: PolicyError.missingAttribute("site", template: "device", field: "subject.organizationalUnit")) {
            try missing.profile(issuerName: "issuing", issuer: nil)
        }
    }

    @Test func subjectFieldLimitsAreEnforcedAfterRendering() throws {
        var template = try TemplateCatalog.builtIn.template("device")
        template.subject.commonName = "{{thing}}-{{thing}}"
        let policy = IssuancePolicy(template: template, thing: String(repeating: "a", count: 40), organization: "Acme")
        #expect(throws: PolicyError.self) { try policy.profile(issuerName: "issuing", issuer: nil) }
        template.subject.commonName = "{{thing}}"
        template.subject.country = "France"
        #expect(throws: PolicyError.self) {
            try IssuancePolicy(template: template, thing: "x", organization: "Acme").profile(issuerName: "issuing", issuer: nil)
        }
    }

    @Test func validityIsBackdatedAndClippedToTheIssuer() throws {
        let fixture = try TemporaryStore(encrypted: false)
        let issuing = try fixture.store.authority(named: "issuing").certificate()
        let template = try TemplateCatalog.builtIn.template("device")
        let key = try KeyGenerator().generate(.ecP256)
        let now = Date()

        var policy = IssuancePolicy(template: template, thing: "d", organization: "Acme")
        let spec = try policy.decide(publicKey: key.publicKey, issuerName: "issuing", issuer: issuing, now: now)
        #expect(spec.notBefore <= now.addingTimeInterval(-IssuancePolicy.clockSkewAllowance + 1))
        #expect(spec.notAfter.timeIntervalSince(now) > 364 * 86_400)

        // A template asking for more than the issuer has left is clipped ...
        policy.template.validity = "50y"
        #expect(try policy.decide(publicKey: key.publicKey, issuerName: "issuing", issuer: issuing, now: now).notAfter == issuing.notValidAfter)
        // ... but an explicit request for more is refused, not silently shortened.
        policy.validity = try ValidityPeriod("50y")
        #expect(throws: PolicyError.self) {
            try policy.decide(publicKey: key.publicKey, issuerName: "issuing", issuer: issuing, now: now)
        }
    }

    @Test func serialsAreRandomPositiveAndTwentyBytes() {
        var seen = Set<SerialNumber>()
        for _ in 0..<10_000 {
            let serial = SerialNumber.random()
            #expect(serial.bytes.count == 20)
            #expect(serial.bytes[0] & 0x80 == 0 && serial.bytes[0] != 0)
            seen.insert(serial)
        }
        #expect(seen.count == 10_000)
        #expect(SerialNumber(hex: "5B:30:55")?.hex == "5b3055")
    }
}

@Suite struct ClientGrantTests {
    @Test(arguments: [
        ("device:line1-*", "device", "line1-0001", true),
        ("device:line1-*", "device", "line2-0001", false),
        ("device:line1-*", "server", "line1-0001", false),
        ("device", "device", "anything", true),
        ("device:*-??", "device", "a-bc", true),
        ("device:*-??", "device", "a-b", false),
        ("device:a*b*c", "device", "aXbYbZc", true),
        ("device:a*b*c", "device", "aXbYbZ", false),
        ("device:exact", "device", "exact", true),
        ("device:exact", "device", "exact2", false),
    ])
    func grantsMatchTemplateAndWholeName(_ grant: String, _ template: String, _ thing: String, _ allowed: Bool) throws {
        #expect(try ClientGrant(parsing: grant).allows(template: template, thing: thing) == allowed)
    }

    @Test(arguments: ["", ":x", "device:", "device:a/b", "device:a b", "bad name:x"])
    func badGrantsAreRefused(_ text: String) {
        #expect(throws: PolicyError.self) { try ClientGrant(parsing: text) }
    }

    @Test func aLongPatternDoesNotBacktrackExponentially() throws {
        let grant = try ClientGrant(template: "device", pattern: String(repeating: "*a", count: 60) + "b")
        #expect(!grant.allows(template: "device", thing: String(repeating: "a", count: 128)))
    }
}
