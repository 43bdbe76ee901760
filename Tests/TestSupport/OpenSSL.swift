import Foundation

/// The `openssl` command line, the judge of everything iotca writes.
public enum OpenSSLCLI {
    @discardableResult
    public static func run(_ arguments: [String], input: Data? = nil, directory: URL? = nil) throws -> ProcessResult {
        try ProcessRunner.run("openssl", arguments, input: input, directory: directory)
    }

    /// `openssl verify -x509_strict` of a bundle folder's cert.pem against its root.pem and chain.pem.
    public static func verifyBundle(_ folder: URL, purpose: String = "sslclient", extra: [String] = []) throws -> ProcessResult {
        var arguments = ["verify", "-x509_strict", "-purpose", purpose, "-CAfile", folder.appendingPathComponent("root.pem").path]
        let chain = folder.appendingPathComponent("chain.pem")
        if let text = try? String(contentsOf: chain, encoding: .utf8), !text.isEmpty {
            arguments += ["-untrusted", chain.path]
        }
        return try run(arguments + extra + [folder.appendingPathComponent("cert.pem").path])
    }

    /// `openssl x509 -text` of a PEM certificate file.
    public static func text(ofCertificate path: String) throws -> String {
        try run(["x509", "-noout", "-text", "-in", path]).stdout
    }
}
