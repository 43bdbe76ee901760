import Foundation

/// The script each CA's on-publish command runs: it rebuilds crl-chain.pem from the newest CRL
/// of every CA (written whole, then renamed, so a server never reads half a file), then makes
/// each server read it. A revocation that is published but not loaded protects nobody.
enum CRLReloadScript {
    static func text(_ setup: BrokerSetup, files: BrokerFiles, crls: [URL]) -> String {
        let reloads = BrokerSetup.Server.allCases.filter(setup.servers.contains).map { server in
            "# \(server.rawValue) reads the CRL file only at start and on reload.\n\(setup.reloadCommand(server))"
        }
        return """
            #!/bin/sh
            # Written by iotca broker-config. Run after every new CRL (the CAs' on-publish command)
            # and from cron after crl publish --if-due.
            set -eu
            umask 022
            next=\(shellQuoted(files.crlChain.path)).next
            cat \(crls.map { shellQuoted($0.path) }.joined(separator: " ")) > "$next"
            mv -f "$next" \(shellQuoted(files.crlChain.path))
            \(reloads.joined(separator: "\n"))

            """
    }

    static func shellQuoted(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }
}
