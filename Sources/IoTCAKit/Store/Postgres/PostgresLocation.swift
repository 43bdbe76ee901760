import Foundation

/// Where a PostgreSQL store lives: `postgres://USER@HOST:PORT/DATABASE?sslmode=...`, read as
/// libpq reads it (so the URL a user has for psql works here), with the password looked up
/// where libpq looks: the URL, `PGPASSWORD`, then `~/.pgpass` (or `PGPASSFILE`); a
/// `--db-password-file` comes first of all.
public struct PostgresLocation: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var user: String
    public var database: String
    public var password: String?
    public var sslMode: SSLMode
    /// The CA certificates that verify the server (`sslrootcert`), for verify-ca and verify-full.
    public var sslRootCertificate: String?
    /// Seconds to wait for a connection (`connect_timeout`).
    public var connectTimeout: Int
    /// What a front end should tell the user about this URL (a server left unauthenticated).
    public var warning: String?

    /// Loopback names and addresses: a server there is this machine's own.
    static func isLocal(_ host: String) -> Bool {
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        if bare == "localhost" || bare.hasPrefix("/") { return true }
        // An address, read as one: a name such as 127.example.com is another machine.
        guard let bytes = SubjectAltName.ipBytes(bare) else { return false }
        return bytes.count == 4 ? bytes[0] == 127 : bytes == [UInt8](repeating: 0, count: 15) + [1]
    }

    /// libpq's `sslmode`, minus `allow` (taken as prefer: TLS when the server offers it).
    public enum SSLMode: String, Sendable, CaseIterable {
        case disable, allow, prefer, require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    /// Whether `text` names a PostgreSQL store rather than a folder.
    public static func isURL(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    /// Parses a store URL; `environment` (the front end's) supplies PGPASSWORD, PGPASSFILE,
    /// PGUSER and HOME.
    public init(url text: String, passwordFile: String? = nil, environment: [String: String]) throws(StoreError) {
        guard Self.isURL(text), let components = URLComponents(string: text), let host = components.host, !host.isEmpty else {
            throw .badLocation(Self.redacted(text), detail: "expected postgres://USER@HOST[:PORT]/DATABASE[?sslmode=MODE]")
        }
        self.host = host
        port = components.port ?? 5432
        let user = components.user.flatMap { $0.removingPercentEncoding } ?? environment["PGUSER"] ?? NSUserName()
        guard !user.isEmpty else { throw .badLocation(Self.redacted(text), detail: "no user: put one in the URL (postgres://USER@HOST/DB)") }
        self.user = user
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        database = path.removingPercentEncoding.flatMap { $0.isEmpty ? nil : $0 } ?? user
        // The database is the record: a server that is not on this machine is authenticated
        // unless the URL says otherwise (libpq's own default, prefer, authenticates nothing).
        sslMode = Self.isLocal(host) ? .prefer : .verifyFull
        var written: SSLMode?
        connectTimeout = 10
        for item in components.queryItems ?? [] {
            let value = item.value ?? ""
            switch item.name {
            case "sslmode":
                guard let mode = SSLMode(rawValue: value) else {
                    throw .badLocation(Self.redacted(text), detail: "sslmode \(value) is not one of \(SSLMode.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                sslMode = mode
                written = mode
            case "sslrootcert": sslRootCertificate = value
            case "connect_timeout":
                guard let seconds = Int(value), seconds > 0 else { throw .badLocation(Self.redacted(text), detail: "connect_timeout must be a number of seconds") }
                connectTimeout = seconds
            case "application_name": break
            default:
                throw .badLocation(Self.redacted(text), detail: "unknown parameter \(item.name) (known: sslmode, sslrootcert, connect_timeout, application_name)")
            }
        }
        if (sslMode == .verifyCA || sslMode == .verifyFull) && sslRootCertificate == nil {
            throw .badLocation(Self.redacted(text), detail: written == nil
                ? "\(host) is not on this machine, so its certificate is verified (sslmode=verify-full): give the CA that signed it as sslrootcert=FILE, or write sslmode=require to skip the check"
                : "sslmode=\(sslMode.rawValue) verifies the server's certificate: give the CA that signed it as sslrootcert=FILE")
        }
        if let written, [.allow, .prefer, .require].contains(written), !Self.isLocal(host), sslRootCertificate == nil {
            warning = "sslmode=\(written.rawValue): the database server \(host) is not authenticated, so whoever sits between this node and it can read and change the store; use sslmode=verify-full with sslrootcert=FILE"
        }
        if let passwordFile {
            guard let contents = try? String(contentsOfFile: passwordFile, encoding: .utf8) else {
                throw .badLocation(Self.redacted(text), detail: "cannot read the password file \(passwordFile)")
            }
            password = contents.split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init) ?? ""
        } else if let inURL = components.password {
            password = inURL.removingPercentEncoding ?? inURL
        } else if let variable = environment["PGPASSWORD"] {
            password = variable
        } else {
            let file = environment["PGPASSFILE"] ?? (environment["HOME"] ?? NSHomeDirectory()) + "/.pgpass"
            password = Self.passwordFromPassFile(file, host: host, port: port, database: database, user: user)
        }
    }

    /// libpq's pgpass lookup: `host:port:database:user:password` lines, `*` matching anything,
    /// `\:` and `\\` escapes, the first match wins; a file others can read is ignored, as libpq does.
    static func passwordFromPassFile(_ path: String, host: String, port: Int, database: String, user: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0, info.st_mode & 0o077 == 0, let contents = try? String(contentsOfFile: path, encoding: .utf8) else {
            return nil
        }
        for line in contents.split(whereSeparator: \.isNewline) where !line.hasPrefix("#") {
            var fields: [String] = [], current = "", escaped = false
            for character in line {
                if escaped { current.append(character); escaped = false }
                else if character == "\\" { escaped = true }
                else if character == ":" && fields.count < 4 { fields.append(current); current = "" }
                else { current.append(character) }
            }
            fields.append(current)
            guard fields.count == 5 else { continue }
            let wanted = [host, String(port), database, user]
            if zip(fields.prefix(4), wanted).allSatisfy({ $0 == "*" || $0 == $1 }) { return fields[4] }
        }
        return nil
    }

    /// The URL without its password, for messages and logs.
    public var description: String {
        var text = "postgres://\(user)@\(host)"
        if port != 5432 { text += ":\(port)" }
        return text + "/\(database)"
    }

    /// `url` with any password replaced by `***`, also when the URL does not parse (a password
    /// must never reach a message): whatever stands between the user's `:` and the last `@` of
    /// the authority.
    static func redacted(_ url: String) -> String {
        guard let scheme = url.range(of: "://") else { return url }
        let rest = url[scheme.upperBound...]
        guard let at = rest.lastIndex(of: "@") else { return url }
        let userInfo = rest[..<at]
        guard let colon = userInfo.firstIndex(of: ":") else { return url }
        return String(url[..<rest.startIndex]) + userInfo[..<colon] + ":***" + rest[at...]
    }
}
