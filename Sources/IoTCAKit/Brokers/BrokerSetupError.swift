/// `broker-config` refused before writing anything.
public enum BrokerSetupError: IoTCAError, Equatable {
    /// Files that exist with other contents (or on-publish commands already set).
    case wouldReplace([String])
    /// A path or value that would not survive unquoted in a server configuration.
    case unsafeValue(what: String, value: String, reason: String)
    case invalidPorts(String)
    /// The server thing has an active certificate whose key is not in the folder.
    case serverKeyElsewhere(thing: String, serial: String, folder: String)
    case noServers
    case unknownGroup(String)

    public var kind: ErrorKind {
        switch self {
        case .wouldReplace, .serverKeyElsewhere: return .conflict
        case .unsafeValue, .invalidPorts, .noServers, .unknownGroup: return .policy
        }
    }

    public var description: String {
        switch self {
        case .wouldReplace(let what):
            return "refusing to replace what exists with other contents: \(what.joined(separator: ", ")); nothing was written (force replaces them)"
        case .unsafeValue(let what, let value, let reason):
            return "\(what) \"\(value)\" cannot go into a server configuration: \(reason)"
        case .invalidPorts(let reason):
            return "ports: \(reason)"
        case .serverKeyElsewhere(let thing, let serial, let folder):
            return "\(thing) has an active certificate (\(serial)) whose key is not in \(folder): issue it a new one into that folder (renewing it), or point at the folder it was written into"
        case .noServers:
            return "name at least one server: mosquitto, nginx"
        case .unknownGroup(let name):
            return "no group \(PolicyError.quoted(name)) on this machine to give the server's key to"
        }
    }
}
