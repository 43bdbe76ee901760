import Foundation
import IoTCAKit
import Testing
import TestSupport

/// A Matter factory line from the command line, judged by OpenSSL and pkilint: a PAA over a PAI,
/// DACs in the files factory tools take, a batch with product IDs, the PAI's CRL and its
/// revocation set, a test set, and bad input refused with a clear error.
@Suite struct MatterInteropTests {
    let folder = TemporaryFolder("iotca-matter")

    func iotca(_ arguments: [String]) throws -> ProcessResult {
        var environment = ProcessInfo.processInfo.environment
        environment["IOTCA_STORE"] = folder.path("store")
        environment["IOTCA_PASSPHRASE"] = nil
        let result = try ProcessRunner.run(ProcessRunner.iotcaExecutable, arguments, environment: environment, directory: folder.url)
        // A batch reports each refused row on a line of its own.
        if !result.succeeded && arguments.first != "batch" {
            #expect(result.stderr.hasPrefix("iotca: error: ") || result.status == CLIStatus.usage.rawValue, "\(result.stderr)")
        }
        return result
    }

    func openssl(_ arguments: [String]) throws -> String {
        let result = try OpenSSLCLI.run(arguments, directory: folder.url)
        #expect(result.succeeded, "openssl \(arguments.joined(separator: " ")): \(result.stderr)")
        return result.stdout
    }

    /// The DER files of a matter bundle, also written as PEM beside them for `openssl verify`.
    func pem(_ der: String) throws -> String {
        let path = der.replacingOccurrences(of: ".der", with: ".pem")
        _ = try openssl(["x509", "-inform", "DER", "-in", der, "-out", path])
        return path
    }

    @Test func aFactoryLineOfDACsPassesOpenSSLPkilintAndTheProfile() throws {
        #expect(try iotca(["init", "--profile", "matter", "--vid", "fff1", "--pid", "8000", "--org", "Acme", "--insecure-no-passphrase"]).succeeded)
        // A Certification Declaration is CMS SignedData: a test one signed by a key of our own.
        _ = try openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "cd.key",
                         "-out", "cd-signer.pem", "-subj", "/CN=Test CD Signer", "-days", "1"])
        try Data("certification elements".utf8).write(to: folder.appending("cd.payload"))
        _ = try openssl(["cms", "-sign", "-binary", "-nodetach", "-in", "cd.payload", "-signer", "cd-signer.pem", "-inkey", "cd.key",
                         "-outform", "DER", "-out", "cd.der"])
        let issued = try iotca(["issue", "light-1", "--template", "matter-dac", "--format", "matter", "--cd", "cd.der", "--out", "line"])
        #expect(issued.succeeded, "\(issued.stderr)")
        let bundle = "line/light-1/"
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path(bundle)).sorted()
        #expect(files == ["cd.der", "dac_cert.der", "dac_key.der", "manifest.json", "paa_cert.der", "pai_cert.der"])
        #expect(try Data(contentsOf: folder.appending(bundle + "cd.der")) == Data(contentsOf: folder.appending("cd.der")))

        let paa = try pem(bundle + "paa_cert.der"), pai = try pem(bundle + "pai_cert.der"), dac = try pem(bundle + "dac_cert.der")
        for (file, size) in [(paa, "paa"), (pai, "pai"), (dac, "dac")] {
            let bytes = try Data(contentsOf: folder.appending(bundle + "\(size)_cert.der"))
            #expect(bytes.count <= 600, "\(size): \(bytes.count) bytes")
            #expect(try LintTests.lintCertificate(folder.path(file)).isEmpty, "\(size)")
        }
        let dacText = try openssl(["x509", "-in", dac, "-noout", "-text"])
        for expected in ["Signature Algorithm: ecdsa-with-SHA256", "NIST CURVE: P-256", "Basic Constraints: critical\n                CA:FALSE",
                         "Key Usage: critical\n                Digital Signature\n", "Subject Key Identifier", "Authority Key Identifier",
                         "1.3.6.1.4.1.37244.2.1 = FFF1, 1.3.6.1.4.1.37244.2.2 = 8000", "Not After : Dec 31 23:59:59 9999 GMT"] {
            #expect(dacText.contains(expected), "\(expected)")
        }
        #expect(!dacText.contains("Extended Key Usage") && !dacText.contains("Alternative Name"))
        let paiText = try openssl(["x509", "-in", pai, "-noout", "-text"])
        #expect(paiText.contains("CA:TRUE, pathlen:0") && paiText.contains("Certificate Sign, CRL Sign"))
        let paaText = try openssl(["x509", "-in", paa, "-noout", "-text"])
        #expect(paaText.contains("CA:TRUE, pathlen:1") && paaText.contains("1.3.6.1.4.1.37244.2.1 = FFF1") && !paaText.contains("37244.2.2"))
        let parsed = try openssl(["asn1parse", "-inform", "DER", "-in", bundle + "dac_cert.der"])
        #expect(parsed.contains("UTF8STRING        :FFF1") && parsed.contains("UTF8STRING        :8000"))
        #expect(parsed.contains("GENERALIZEDTIME   :99991231235959Z"))
        // The chain as the SDK verifies it: strict, at the DAC's notBefore.
        let notBefore = try openssl(["x509", "-in", dac, "-noout", "-startdate"]).split(separator: "=").last.map(String.init) ?? ""
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "MMM d HH:mm:ss yyyy 'GMT'"
        let start = try #require(formatter.date(from: notBefore.replacingOccurrences(of: "  ", with: " ").trimmingCharacters(in: .whitespacesAndNewlines)))
        let verified = try openssl(["verify", "-x509_strict", "-attime", String(Int(start.timeIntervalSince1970)), "-CAfile", paa, "-untrusted", pai, dac])
        #expect(verified.contains(": OK"))
        // The key file is SEC1 DER of the certified key.
        let keyPublic = try openssl(["ec", "-inform", "DER", "-in", bundle + "dac_key.der", "-pubout"])
        #expect(keyPublic == (try openssl(["x509", "-in", dac, "-noout", "-pubkey"])))

        // A batch with product IDs: a row for another product is refused, the others issued.
        try Data("thing,pid\nb-1,8000\nb-2,8001\nb-3,8000\n".utf8).write(to: folder.appending("line.csv"))
        let batch = try iotca(["batch", "line.csv", "--template", "matter-dac", "--format", "matter", "--out", "batch"])
        #expect(batch.status == CLIStatus.rejected.rawValue, "\(batch.stdout) \(batch.stderr)")
        #expect(batch.stderr.contains("product ID 8001 differs from 8000"), "\(batch.stderr)")
        for thing in ["b-1", "b-3"] {
            let certificate = try pem("batch/\(thing)/dac_cert.der")
            #expect(try openssl(["verify", "-x509_strict", "-attime", String(Int(Date().timeIntervalSince1970)), "-CAfile", paa, "-untrusted", pai, certificate]).contains(": OK"))
        }
        #expect(!FileManager.default.fileExists(atPath: folder.path("batch/b-2")))
        #expect(try iotca(["list", "--thing", "b-2", "--format", "jsonl"]).stdout.isEmpty)

        // Revocation: the PAI's CRL (pkilint, openssl) and the revocation set commissioners read.
        #expect(try iotca(["revoke", "--thing", "light-1", "--reason", "key-compromise"]).succeeded)
        #expect(try iotca(["crl", "publish", "--ca", "issuing"]).succeeded)
        let crl = folder.path("store/public/issuing.crl")
        #expect(try LintTests.lintCRL(crl).isEmpty)
        _ = try openssl(["crl", "-inform", "DER", "-in", crl, "-out", "issuing.crl.pem"])
        let refused = try OpenSSLCLI.run(["verify", "-crl_check", "-CAfile", paa, "-untrusted", pai, "-CRLfile", "issuing.crl.pem", dac], directory: folder.url)
        #expect(!refused.succeeded && refused.stdout.appending(refused.stderr).contains("certificate revoked"))
        #expect(try iotca(["matter", "revocation-set", "--ca", "issuing", "--out", "revocation-set.json"]).succeeded)
        let set = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appending("revocation-set.json"))) as? [[String: Any]]
        let serial = try openssl(["x509", "-in", dac, "-noout", "-serial"]).trimmingCharacters(in: .whitespacesAndNewlines)
            .replacingOccurrences(of: "serial=", with: "")
        #expect(set?.first?["revoked_serial_numbers"] as? [String] == [serial])
        let keyID = try openssl(["x509", "-in", pai, "-noout", "-ext", "subjectKeyIdentifier"]).split(separator: "\n").last?
            .trimmingCharacters(in: .whitespaces).replacingOccurrences(of: ":", with: "")
        #expect(set?.first?["issuer_subject_key_id"] as? String == keyID)

        // A PAI revoked: the PAA's CRL lists it, and the PAA's revocation set.
        #expect(try iotca(["ca", "create", "pai-2", "--parent", "root", "--template", "matter-pai", "--vid", "FFF1", "--pid", "8002"]).succeeded)
        let paiSerial = try openssl(["x509", "-in", "store/public/pai-2.crt", "-noout", "-serial"]).trimmingCharacters(in: .whitespacesAndNewlines)
            .replacingOccurrences(of: "serial=", with: "")
        #expect(try iotca(["revoke", paiSerial, "--reason", "ca-compromise"]).succeeded)
        #expect(try iotca(["crl", "publish", "--ca", "root"]).succeeded)
        #expect(try LintTests.lintCRL(folder.path("store/public/root.crl")).isEmpty)
        let paaSet = try iotca(["matter", "revocation-set", "--ca", "root", "--out", "-"])
        let paaEntries = try JSONSerialization.jsonObject(with: Data(paaSet.stdout.utf8)) as? [[String: Any]]
        #expect(paaEntries?.first?["revoked_serial_numbers"] as? [String] == [paiSerial])
    }

    @Test func badInputIsRefusedWithAClearErrorAndATestSetIsMarkedAsTest() throws {
        #expect(try iotca(["init", "--profile", "matter", "--insecure-no-passphrase"]).status == CLIStatus.usage.rawValue)
        #expect(try iotca(["init", "--profile", "matter", "--vid", "FFF1", "--key-type", "rsa-2048", "--insecure-no-passphrase"]).status
            == CLIStatus.rejected.rawValue)
        #expect(!FileManager.default.fileExists(atPath: folder.path("store")))
        #expect(try iotca(["init", "--profile", "matter", "--vid", "FFF1", "--insecure-no-passphrase"]).succeeded)
        let badVendor = try iotca(["issue", "x-1", "--template", "matter-dac", "--vid", "ZZZZ", "--pid", "8000", "--format", "matter"])
        #expect(badVendor.status == CLIStatus.rejected.rawValue)
        #expect(badVendor.stderr.contains("vendor ID is four hexadecimal digits"), "\(badVendor.stderr)")
        let noProduct = try iotca(["issue", "x-2", "--template", "matter-dac", "--format", "matter"])
        #expect(noProduct.status == CLIStatus.rejected.rawValue && noProduct.stderr.contains("a DAC carries a product ID"), "\(noProduct.stderr)")
        let noSet = try iotca(["matter", "revocation-set", "--ca", "issuing", "--out", "-"])
        #expect(noSet.status == CLIStatus.rejected.rawValue && noSet.stderr.contains("has published no CRL"), "\(noSet.stderr)")

        let notTest = try iotca(["matter", "test-set", "--out", "t1", "--vid", "1234"])
        #expect(notTest.status == CLIStatus.rejected.rawValue && notTest.stderr.contains("test vendor ID"))
        #expect(try iotca(["matter", "test-set", "--out", "t2", "--count", "2"]).succeeded)
        #expect(try String(contentsOf: folder.appending("t2/README.txt"), encoding: .utf8).hasPrefix("TEST ONLY"))
        let paa = try pem("t2/dacs/matter-test-dac-0002/paa_cert.der"), pai = try pem("t2/dacs/matter-test-dac-0002/pai_cert.der")
        let dac = try pem("t2/dacs/matter-test-dac-0002/dac_cert.der")
        #expect(try openssl(["x509", "-in", paa, "-noout", "-subject"]).contains("CN = Matter Test PAA"))
        #expect(try openssl(["verify", "-x509_strict", "-CAfile", paa, "-untrusted", pai, dac]).contains(": OK"))
    }
}
