import Foundation
import X509

extension CertificateAuthority {
    /// `broker-config`: the files mosquitto and nginx need to let in devices of `setup`'s CAs
    /// and to refuse revoked ones (CA chain, CRLs of every CA in it, the server's certificate
    /// and key, the configurations, and the script that reloads the CRLs). Everything is
    /// checked, and every file compared with what exists, before anything is written: a file
    /// with other contents or another on-publish command is replaced only with `force`. The
    /// CRL file itself is state, not configuration: it is always brought up to date.
    /// - Throws: `BrokerSetupError` (values, ports, conflicts), `AuthorityError`, what issuing
    ///   the server certificate throws, `OutputError`.
    public func writeBrokerConfiguration(_ setup: BrokerSetup) throws -> BrokerSetupResult {
        try Self.check(setup)
        let group = try setup.keyGroup.map { name throws -> gid_t in
            guard let entry = getgrnam(name) else { throw BrokerSetupError.unknownGroup(name) }
            return entry.pointee.gr_gid
        }
        let files = BrokerFiles(folder: setup.folder, serverThing: setup.serverThing)
        let (chainCAs, depth) = try caChain(of: setup.authorities)
        let caPEM = chainCAs.compactMap(\.certificateDER).flatMap { PEM.bytes($0, type: "CERTIFICATE") }

        // Read once: renewing is decided by what was checked, so a second run at once that finds
        // no certificate is refused as a conflict instead of renewing the first one's.
        let activeAtStart = try store.activeSerials(thing: setup.serverThing)
        let existing = try serverCertificateInFolder(setup, files: files, active: activeAtStart)
        // Configuration: compared with what exists, replaced only with `force`.
        var configuration: [(URL, [UInt8], mode_t)] = [(files.caChain, caPEM, 0o644)]
        if setup.servers.contains(.mosquitto) {
            configuration.append((files.mosquittoConfiguration, Array(MosquittoConfiguration.text(setup, files: files).utf8), 0o644))
        }
        if setup.servers.contains(.nginx) {
            configuration.append((files.nginxConfiguration, Array(NginxConfiguration.text(setup, files: files, chainDepth: depth).utf8), 0o644))
        }
        let script = CRLReloadScript.text(setup, files: files, crls: chainCAs.map { crlFiles(of: $0.name).pem })
        configuration.append((files.reloadScript, Array(script.utf8), 0o755))
        let hook = CRLReloadScript.shellQuoted(files.reloadScript.path)

        // Each file read once, for the conflict check and for "unchanged".
        let onDisk = Dictionary(uniqueKeysWithValues: configuration.map { url, _, _ in (url, FileManager.default.contents(atPath: url.path)) })
        func replaces(_ url: URL, _ bytes: [UInt8]) -> Bool { (onDisk[url] ?? nil).map { Array($0) != bytes } ?? false }
        var conflicts = configuration.filter { url, bytes, _ in replaces(url, bytes) }.map { $0.0.path }
        if setup.setOnPublish {
            conflicts += chainCAs.filter { $0.onPublish != nil && $0.onPublish != hook }.map { "the on-publish command of \($0.name) (\($0.onPublish ?? ""))" }
        }
        if existing == nil, FileManager.default.fileExists(atPath: files.serverBundle.path) {
            conflicts.append(files.serverBundle.path)
        }
        if !conflicts.isEmpty && !setup.force { throw BrokerSetupError.wouldReplace(conflicts) }

        // The servers refuse every device without a CRL of each CA: publish the missing ones.
        let missing = try chainCAs.filter { try store.latestCRL(of: $0.name) == nil }.map(\.name)
        if !missing.isEmpty { _ = try publishCRLs(of: missing) }
        let crls = try chainCAs.map { authority in
            guard let (_, der) = try store.latestCRLDER(of: authority.name) else {
                throw StoreError.corruptRow(table: "crls", key: authority.name, detail: "no CRL after publishing")
            }
            return PEM.bytes(der, type: "X509 CRL")
        }

        var server: CertificateEntry
        if let existing {
            server = existing
        } else {
            let renew = !activeAtStart.isEmpty
            server = try issue(IssueRequest(thing: setup.serverThing, authority: setup.serverAuthority, template: "server",
                                            subjectAltNames: setup.subjectAltNames, renew: renew, force: setup.force,
                                            // Its key (and any prepared next key) is in another folder.
                                            renewalKey: .new),
                               into: setup.folder).entry
        }
        let serverAuthority = try store.authority(named: server.authority)
        let serverChain = PEM.bytes(server.der, type: "CERTIFICATE") + (try store.chain(of: serverAuthority)).intermediatesPEMBytes
        // State: derived from the store and the server's certificate, always brought up to date.
        let state: [(URL, [UInt8], mode_t)] = [(files.serverChain, serverChain, 0o644), (files.crlChain, crls.flatMap { $0 }, 0o644)]

        var written: [BrokerSetupResult.File] = []
        for (url, bytes, mode) in state + configuration {
            let current = onDisk[url] ?? FileManager.default.contents(atPath: url.path)
            let existed = current != nil
            if current.map({ Array($0) == bytes }) == true && Self.mode(of: url) == mode {
                written.append(.init(path: url.path, change: .unchanged))
                continue
            }
            try AtomicFile.write(bytes, to: url, mode: mode)
            written.append(.init(path: url.path, change: existed ? .replaced : .written))
        }
        if let group { try Self.share(files, with: group) }
        var onPublishSet: [String] = []
        if setup.setOnPublish {
            // On a shared store each node runs only what its own folder lists: this node, which
            // serves these brokers, agrees to run their reload.
            if store.isShared { try OnPublishAllowList(nodeFolder: store.layout.root).add(hook) }
            for authority in chainCAs where authority.onPublish != hook {
                _ = try configureCA(authority.name, onPublish: hook)
                onPublishSet.append(authority.name)
            }
        }
        return BrokerSetupResult(files: written, serverCertificate: server, issuedServerCertificate: existing == nil,
                                 crlAuthorities: chainCAs.map(\.name), reloadScript: files.reloadScript, onPublishCommand: hook, onPublishSet: onPublishSet)
    }

    /// The named CAs and every CA above them, each once, leaf-most first; and how many CAs the
    /// longest of those chains holds (nginx's verify depth).
    private func caChain(of names: [String]) throws -> (authorities: [Authority], depth: Int) {
        var chain: [Authority] = [], depth = 1
        for name in names {
            var next: String? = name, length = 0
            while let current = next {
                let authority = try store.authority(named: current)
                guard authority.certificateDER != nil else { throw AuthorityError.pending(authority.name) }
                if !chain.contains(where: { $0.name == authority.name }) { chain.append(authority) }
                length += 1
                next = authority.parentName
            }
            depth = max(depth, length)
        }
        return (chain, depth)
    }

    /// The server thing's certificate already in the folder, if it is active and its key is
    /// there; nil when one is to be issued.
    /// - Throws: `BrokerSetupError.serverKeyElsewhere` when the thing has an active certificate
    ///   whose key is not in the folder (and `force` does not renew it).
    private func serverCertificateInFolder(_ setup: BrokerSetup, files: BrokerFiles, active: [SerialNumber]) throws -> CertificateEntry? {
        guard let newest = active.last else { return nil }
        let onDisk = Bundle.certificatesOnDisk(of: setup.serverThing, format: .dir, in: setup.folder)
            .compactMap { try? SerialNumber(Certificate(derEncoded: $0).serialNumber) }
        if let serial = onDisk.first, active.contains(serial), FileManager.default.fileExists(atPath: files.serverKey.path) {
            return try store.certificate(matching: serial.hex)
        }
        if setup.force { return nil }
        throw BrokerSetupError.serverKeyElsewhere(thing: setup.serverThing, serial: newest.hex, folder: setup.folder.path)
    }

    /// The server's bundle folder and its keys readable by `group` (a renewal writes them
    /// owner-only again: broker-config run after it shares them again).
    private static func share(_ files: BrokerFiles, with group: gid_t) throws {
        let keys = ["key.pem", "next-key.pem"].map { files.serverBundle.appendingPathComponent($0) }
            .filter { FileManager.default.fileExists(atPath: $0.path) }
        for (url, mode) in [(files.serverBundle, mode_t(0o750))] + keys.map({ ($0, mode_t(0o640)) }) {
            guard chown(url.path, uid_t.max, group) == 0, chmod(url.path, mode) == 0 else {
                throw OutputError.writeFailed(path: url.path, detail: String(cString: strerror(errno)))
            }
        }
    }

    private static func mode(of url: URL) -> mode_t? {
        var info = stat()
        guard stat(url.path, &info) == 0 else { return nil }
        return info.st_mode & 0o777
    }

    /// Refuses values that would change a configuration's meaning: neither mosquitto nor
    /// nginx quotes paths the way a shell does.
    private static func check(_ setup: BrokerSetup) throws {
        guard !setup.servers.isEmpty else { throw BrokerSetupError.noServers }
        try ThingName.validate(setup.serverThing)
        let unsafe = CharacterSet.whitespacesAndNewlines.union(.controlCharacters).union(CharacterSet(charactersIn: ";{}#\"'$\\`"))
        if setup.folder.path.unicodeScalars.contains(where: unsafe.contains) {
            throw BrokerSetupError.unsafeValue(what: "folder", value: setup.folder.path,
                                               reason: "spaces, quotes and ; { } # $ \\ are not allowed in paths here")
        }
        let hostCharacters = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:*")
        for (what, value) in [("listen address", setup.bindAddress), ("server name", setup.serverName)] {
            guard let value else { continue }
            if value.isEmpty || value.count > 253 || value.unicodeScalars.contains(where: { !hostCharacters.contains($0) }) {
                throw BrokerSetupError.unsafeValue(what: what, value: value, reason: "a host name or IP address (letters, digits, . - : *)")
            }
        }
        if let upstream = setup.httpsUpstream {
            let allowed = hostCharacters.union(CharacterSet(charactersIn: "/_~%"))
            guard upstream.hasPrefix("http://") || upstream.hasPrefix("https://"),
                  upstream.unicodeScalars.allSatisfy(allowed.contains), upstream.count <= 2_048 else {
                throw BrokerSetupError.unsafeValue(what: "HTTPS upstream", value: upstream, reason: "an http:// or https:// URL of letters, digits and . - : / _ ~ %")
            }
        }
        for (server, command) in setup.reloadCommands where command.contains("\0") || command.isEmpty {
            throw BrokerSetupError.unsafeValue(what: "\(server.rawValue) reload command", value: command, reason: "empty or holds NUL")
        }
        var ports = [("WebSockets (loopback)", setup.websocketsPort)]
        if setup.servers.contains(.mosquitto) { ports.append(("MQTT", setup.mqttPort)) }
        if setup.servers.contains(.nginx) { ports += [("WSS", setup.wssPort), ("HTTPS", setup.httpsPort)] }
        for (name, port) in ports where !(1...65_535).contains(port) {
            throw BrokerSetupError.invalidPorts("\(name) port \(port) is not 1-65535")
        }
        if Set(ports.map(\.1)).count != ports.count {
            throw BrokerSetupError.invalidPorts(ports.map { "\($0.0) \($0.1)" }.joined(separator: ", ") + ": each needs a port of its own")
        }
    }
}
