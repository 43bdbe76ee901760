import ArgumentParser
import Crypto
import Foundation
@_spi(Fuzzing) import IoTCAKit
import SwiftASN1
import X509

/// A bounded-time mutation fuzzer over what iotca parses from outside: CSRs (PEM and DER),
/// templates, PEM bundles, batch files, CRLs and CMP messages. The parsing runs in a child process that
/// writes each input to a file first, so a crash leaves the input behind: the parent saves it
/// to `--crashes` for a regression test.
struct FuzzBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fuzz", abstract: "Mutation-fuzz the CSR, PEM, template, batch, CRL and CMP parsers for a bounded time.")

    @Option(help: "How long to fuzz.") var seconds = 30
    @Option(help: "Where inputs that crashed a parser are saved.") var crashes = "fuzz-crashes"
    @Option(help: "(internal) run the parsing loop in this process, with this seed.") var child: UInt64?
    @Option(help: "Parse one saved input (a file from --crashes) in this process, to reproduce a crash.") var replay: String?

    func run() throws {
        if let child { return try loop(seed: child) }
        if let replay {
            let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: replay)))
            guard let kind = bytes.first else { return }
            Seeds.parse(kind: Int(kind), Array(bytes.dropFirst()))
            return print("parsed \(replay) without crashing")
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("iotca-fuzz-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let deadline = Date().addingTimeInterval(TimeInterval(seconds))
        var runs = 0, found = 0, inputs = 0
        while Date() < deadline {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
            process.arguments = ["fuzz", "--child", String(UInt64.random(in: 1...UInt64.max)), "--seconds", String(max(1, Int(deadline.timeIntervalSinceNow)))]
            process.currentDirectoryURL = folder
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            runs += 1
            inputs += Int((try? String(contentsOf: folder.appendingPathComponent("count"), encoding: .utf8)) ?? "0") ?? 0
            if process.terminationReason == .uncaughtSignal || process.terminationStatus != 0 {
                found += 1
                try FileManager.default.createDirectory(atPath: crashes, withIntermediateDirectories: true)
                let saved = URL(fileURLWithPath: crashes).appendingPathComponent("crash-\(found)")
                try? FileManager.default.removeItem(at: saved)
                try? FileManager.default.copyItem(at: folder.appendingPathComponent("current"), to: saved)
            }
        }
        print("iotca-bench fuzz: \(inputs) inputs in \(seconds) s over \(runs) child process(es); crashes found: \(found)\(found > 0 ? " (saved in \(crashes)/)" : "")")
        if found > 0 { throw ExitCode(1) }
    }

    /// The child: mutate seeds and parse, writing each input to `current` before parsing it.
    func loop(seed: UInt64) throws {
        var random = SplitMix(seed: seed)
        let seeds = try Seeds.make()
        let deadline = Date().addingTimeInterval(TimeInterval(seconds))
        var count = 0
        let current = URL(fileURLWithPath: "current")
        while Date() < deadline {
            let (kind, base) = seeds[Int(random.next() % UInt64(seeds.count))]
            let input = Mutator.mutate(base, using: &random)
            try Data([UInt8(kind)] + input).write(to: current)
            Seeds.parse(kind: kind, input)
            count += 1
            if count % 1_000 == 0 { try Data(String(count).utf8).write(to: URL(fileURLWithPath: "count")) }
        }
        try Data(String(count).utf8).write(to: URL(fileURLWithPath: "count"))
    }
}

/// Deterministic randomness for a child, so a seed replays its inputs.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

enum Mutator {
    static func mutate(_ input: [UInt8], using random: inout SplitMix) -> [UInt8] {
        var bytes = input
        for _ in 0...(Int(random.next() % 8)) {
            guard !bytes.isEmpty else { bytes = [UInt8(truncatingIfNeeded: random.next())]; continue }
            let index = Int(random.next() % UInt64(bytes.count))
            switch random.next() % 7 {
            case 0: bytes[index] = UInt8(truncatingIfNeeded: random.next())                // replace a byte
            case 1: bytes[index] ^= 1 << UInt8(random.next() % 8)                           // flip a bit
            case 2: bytes.remove(at: index)                                                 // delete
            case 3: bytes.insert(UInt8(truncatingIfNeeded: random.next()), at: index)       // insert
            case 4: bytes = Array(bytes.prefix(index))                                      // truncate
            case 5: bytes.insert(contentsOf: bytes[index..<min(bytes.count, index + 16)], at: index)  // repeat
            default: bytes[index] = [0x00, 0x30, 0x80, 0x81, 0x82, 0xFF, 0x7F][Int(random.next() % 7)]  // DER-ish edge bytes
            }
        }
        return bytes
    }
}

enum Seeds {
    static func make() throws -> [(Int, [UInt8])] {
        let key = try KeyGenerator().generate(.ecP256)
        let request = try X509CSR.make(key: key)
        let template = try TemplateCatalog.builtIn.template("device")
        let templateJSON = Array(try JSONEncoder().encode(template))
        let batch = Array("thing,template,csr,site\ndev-1,,,lyon\n\"dev,2\",server,,\"a \"\"b\"\"\"\n".utf8)
        var builder = CRLBuilder(expectedEntries: 2)
        builder.append(RevokedEntry(serial: SerialNumber.random().bytes, revokedAt: 1_790_000_000, reason: .keyCompromise, invalidityDate: 1_789_000_000))
        builder.append(RevokedEntry(serial: SerialNumber.random().bytes, revokedAt: 1_790_000_100, reason: .unspecified, invalidityDate: nil))
        let crl = try builder.finish(issuer: request.issuer, algorithm: .ecP256, thisUpdate: 1_790_000_000, nextUpdate: 1_790_600_000,
                                     number: 7, sign: { _ in [0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01] })
        return [(0, Array(request.pem.utf8)), (0, request.der), (1, templateJSON), (2, Array((PEM.encode(request.issuerDER, type: "CERTIFICATE") + key.pkcs8PEM).utf8)),
                (3, batch), (4, crl), (5, Array("uri:urn:iotca:thing:fuzz-1".utf8)), (5, Array("dns:*.broker.example".utf8)),
                (5, Array("ip:fe80::1".utf8)), (5, Array("email:ops@example.com".utf8))] + (try cmpSeeds())
    }

    /// CMP requests as a device sends them: an ir, a certConf, a genm.
    static func cmpSeeds() throws -> [(Int, [UInt8])] {
        let client = CMPClientRequest(thing: "fuzz-1", secret: "a secret")
        let ir = try client.message(tag: 0, body: try CMPClientRequest.certificationRequest(key: P256.Signing.PrivateKey(), subject: "fuzz-1"),
                                    now: Date(), implicitConfirm: true)
        let confirmation = try client.message(tag: 24, body: CMPClientRequest.confirmation(of: [0x30, 0x00]), now: Date(),
                                              recipientNonce: Array(repeating: 7, count: 16))
        let general = try client.message(tag: 21, body: CMPClientRequest.general([[1, 3, 6, 1, 5, 5, 7, 4, 17]]), now: Date())
        return [(6, ir), (6, confirmation), (6, general)]
    }

    /// Every parser must refuse bad input with an error, never crash.
    static func parse(kind: Int, _ input: [UInt8]) {
        switch kind {
        case 0: _ = try? CSRCheck.publicKey(fromRequest: input)
        case 1: _ = try? Template.parse(Data(input), source: "fuzz")
        case 2: _ = try? PEMBundle.documents(in: String(decoding: input, as: UTF8.self))
        case 3: _ = BatchFile.jsonLines(String(decoding: input, as: UTF8.self)); _ = try? BatchFile.csv(String(decoding: input, as: UTF8.self), source: "fuzz")
        case 4: _ = try? CRLFile(der: input)
        case 6: CMPResponder.parseForFuzzing(input)
        default: _ = try? SubjectAltName(String(decoding: input, as: UTF8.self))
        }
    }
}

/// A CSR and a CA certificate to mutate, made with the library itself.
struct X509CSR {
    let pem: String
    let der: [UInt8]
    let issuer: X509.Certificate
    let issuerDER: [UInt8]

    static func make(key: PrivateKeyMaterial) throws -> X509CSR {
        let template = try TemplateCatalog.builtIn.template("root-ca")
        let spec = try IssuancePolicy(template: template, thing: "fuzz", organization: "fuzz")
            .decide(publicKey: key.publicKey, issuerName: "fuzz", issuer: nil, now: Date())
        let root = try Signer.selfSign(spec, key: key)
        let request = try X509.CertificateSigningRequest(
            version: .v1, subject: root.subject, privateKey: try key.signingKey(),
            attributes: .init(), signatureAlgorithm: .ecdsaWithSHA256)
        var serializer = DER.Serializer()
        try serializer.serialize(request)
        let der = serializer.serializedBytes
        return X509CSR(pem: PEM.encode(der, type: "CERTIFICATE REQUEST"), der: der, issuer: try root.parsed(), issuerDER: root.der)
    }
}
