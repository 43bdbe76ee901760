import Foundation
@testable import IoTCAKit
import Testing
import X509

@Suite struct KeyTests {
    @Test(arguments: [KeyAlgorithm.ecP256, .ecP384, .ed25519, .rsa2048])
    func generatedKeysRoundTripThroughEncryptedPEM(algorithm: KeyAlgorithm) throws {
        let key = try KeyGenerator().generate(algorithm)
        #expect(KeyAlgorithm(publicKey: key.publicKey) == algorithm)
        let pem = try key.pem(encryptedWith: Passphrase("s3cret"))
        #expect(pem.hasPrefix("-----BEGIN ENCRYPTED PRIVATE KEY-----"))
        let reopened = try PrivateKeyMaterial(pem: pem, passphrase: Passphrase("s3cret"), path: "k.pem")
        #expect(reopened.publicKey == key.publicKey)
        #expect(throws: KeyError.wrongPassphrase(path: "k.pem")) {
            try PrivateKeyMaterial(pem: pem, passphrase: Passphrase("wrong"), path: "k.pem")
        }
        #expect(throws: KeyError.passphraseRequired(path: "k.pem")) {
            try PrivateKeyMaterial(pem: pem, passphrase: nil, path: "k.pem")
        }
    }

    @Test func passphraseNeverShowsInDescriptions() {
        let passphrase = Passphrase("hunter2")
        #expect(!"\(passphrase)".contains("hunter2"))
        #expect(!String(reflecting: passphrase).contains("hunter2"))
        #expect(Passphrase(fileContents: "line one\r\nline two\n").bytes == Array("line one".utf8))
    }

    @Test func passphraseSourcesInOrderAndNoHangWithoutTerminal() throws {
        let none = PassphraseSource(file: nil, environment: [:], prompt: nil, variable: "IOTCA_PASSPHRASE")
        #expect(throws: KeyError.noPassphraseSource) { try none.passphrase() }
        let environment = PassphraseSource(file: nil, environment: ["IOTCA_PASSPHRASE": "from-env"], prompt: nil, variable: "IOTCA_PASSPHRASE")
        #expect(try environment.passphrase().bytes == Array("from-env".utf8))
        let missingFile = PassphraseSource(file: "/nonexistent/pass", environment: ["IOTCA_PASSPHRASE": "x"], prompt: nil, variable: "IOTCA_PASSPHRASE")
        #expect(throws: KeyError.self) { try missingFile.passphrase() }
    }

    @Test func passphrasesWithNULAreRefusedEverywhereTheyEnter() throws {
        // OpenSSL reads passphrases back as C strings: "ab\0cd" would encrypt with 5 bytes and
        // decrypt with 2, leaving a CA key nobody can open.
        let key = try KeyGenerator().generate(.ecP256)
        #expect(throws: KeyError.passphraseContainsNUL) { try key.pem(encryptedWith: Passphrase("ab\u{0}cd")) }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("iotca-nul-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let file = folder.appendingPathComponent("passphrase")
        try Data("a long passphrase\u{0}with a NUL\n".utf8).write(to: file)
        #expect(throws: KeyError.passphraseContainsNUL) {
            try PassphraseSource(file: file.path, environment: [:], prompt: nil, variable: "IOTCA_PASSPHRASE").passphrase()
        }
        #expect(throws: KeyError.passphraseContainsNUL) {
            try StoreInitializer.initialize(at: folder.appendingPathComponent("store"),
                                            options: .init(passphrase: Passphrase("a long passphrase\u{0}x")))
        }
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("store").path))
    }

    @Test func secretBuffersAreZeroedWhenReleased() {
        let bytes: [UInt8] = Array("secret".utf8)
        let shared = bytes
        SecretBytes.zero(shared)  // shares the storage: cleared in place, without a copy
        #expect(bytes.allSatisfy { $0 == 0 })
    }
}
