/// A PKCS#11 module or token refused: each names the CKR_ code and what to do.
public enum PKCS11Error: IoTCAError, Equatable {
    case invalidURI(String, reason: String)
    /// The module could not be loaded (path, dlerror).
    case moduleUnavailable(path: String, reason: String)
    /// A call failed: the function and its CK_RV.
    case call(function: String, code: UInt)
    case tokenNotFound(label: String, present: [String])
    case objectNotFound(String)
    /// The key in the token is not the one the CA's certificate certifies.
    case keyMismatch(authority: String, location: String)
    /// The key type cannot be made or used in a token by iotca.
    case unsupportedKey(String)
    /// No PIN could be had (no file, no environment, no terminal).
    case pinRequired

    public var kind: ErrorKind {
        switch self {
        case .invalidURI, .unsupportedKey: return .policy
        case .moduleUnavailable, .tokenNotFound, .objectNotFound: return .notFound
        case .keyMismatch: return .conflict
        case .pinRequired: return .passphrase
        case .call(_, let code):
            switch code {
            case 0xA0, 0xA1, 0xA2, 0xA4, 0x101: return .passphrase   // PIN incorrect, invalid, len range, locked; not logged in
            case 0xE0, 0xE1, 0x30, 0x31, 0x32: return .unavailable   // token not present / unrecognized, device error / memory / removed
            case 0xB0, 0xB3: return .unavailable                      // session closed or invalid, still after logging in again
            case 0x70, 0x71, 0x140: return .policy                    // mechanism invalid, params, curve not supported
            default: return .internalError
            }
        }
    }

    public var description: String {
        switch self {
        case .invalidURI(let text, let reason):
            return "PKCS#11 URI \(PolicyError.quoted(text)): \(reason) (RFC 7512, e.g. pkcs11:token=LABEL;object=LABEL)"
        case .moduleUnavailable(let path, let reason):
            return "cannot load the PKCS#11 module \(path): \(reason); give the path of the token's library (e.g. /usr/lib/softhsm/libsofthsm2.so)"
        case .call(let function, let code):
            return "\(function) failed: \(Self.name(of: code)) (0x\(String(code, radix: 16))): \(Self.advice(for: code))"
        case .tokenNotFound(let label, let present):
            return "no token labelled \(PolicyError.quoted(label)) in the module (present: \(present.isEmpty ? "none" : present.map(PolicyError.quoted).joined(separator: ", "))): insert it or fix token= in the URI"
        case .objectNotFound(let location):
            return "no private key at \(location) in the token: check object= and id= against the objects the token lists"
        case .keyMismatch(let authority, let location):
            return "the key at \(location) is not the key CA \(authority)'s certificate certifies: the token holds another key under that name; nothing was signed"
        case .unsupportedKey(let detail):
            return "unsupported key in a token: \(detail)"
        case .pinRequired:
            return "the token's user PIN is needed: give it in a file or the environment, or run on a terminal to be asked"
        }
    }

    static func name(of code: UInt) -> String {
        names[code] ?? "CKR_VENDOR_DEFINED or unknown"
    }

    static func advice(for code: UInt) -> String {
        switch code {
        case 0xA0: return "wrong PIN (the token counts failures and may lock the PIN)"
        case 0xA4: return "the PIN is locked: unlock it with the security officer PIN"
        case 0xA1, 0xA2: return "the PIN has a form the token does not accept"
        case 0x101: return "not logged in: give the user PIN"
        case 0xE0, 0x32: return "the token is not present: insert it"
        case 0x30, 0x31: return "the token reports a device error: check it and its connection"
        case 0x70, 0x71: return "the token does not support this mechanism for this key"
        case 0x140: return "the token does not support this curve"
        case 0x60, 0x82: return "the key object is gone from the token"
        case 0xE2: return "the token is write-protected"
        case 0x191: return "the module was initialised twice (a bug: please report it)"
        default: return "see the token's documentation"
        }
    }

    private static let names: [UInt: String] = [
        0x0: "CKR_OK", 0x1: "CKR_CANCEL", 0x2: "CKR_HOST_MEMORY", 0x3: "CKR_SLOT_ID_INVALID", 0x5: "CKR_GENERAL_ERROR",
        0x6: "CKR_FUNCTION_FAILED", 0x7: "CKR_ARGUMENTS_BAD", 0x10: "CKR_ATTRIBUTE_READ_ONLY", 0x11: "CKR_ATTRIBUTE_SENSITIVE",
        0x12: "CKR_ATTRIBUTE_TYPE_INVALID", 0x13: "CKR_ATTRIBUTE_VALUE_INVALID", 0x20: "CKR_DATA_INVALID", 0x21: "CKR_DATA_LEN_RANGE",
        0x30: "CKR_DEVICE_ERROR", 0x31: "CKR_DEVICE_MEMORY", 0x32: "CKR_DEVICE_REMOVED", 0x54: "CKR_FUNCTION_NOT_SUPPORTED",
        0x60: "CKR_KEY_HANDLE_INVALID", 0x62: "CKR_KEY_SIZE_RANGE", 0x63: "CKR_KEY_TYPE_INCONSISTENT", 0x68: "CKR_KEY_FUNCTION_NOT_PERMITTED",
        0x70: "CKR_MECHANISM_INVALID", 0x71: "CKR_MECHANISM_PARAM_INVALID", 0x82: "CKR_OBJECT_HANDLE_INVALID",
        0x90: "CKR_OPERATION_ACTIVE", 0x91: "CKR_OPERATION_NOT_INITIALIZED", 0xA0: "CKR_PIN_INCORRECT", 0xA1: "CKR_PIN_INVALID",
        0xA2: "CKR_PIN_LEN_RANGE", 0xA4: "CKR_PIN_LOCKED", 0xB0: "CKR_SESSION_CLOSED", 0xB3: "CKR_SESSION_HANDLE_INVALID",
        0xB5: "CKR_SESSION_READ_ONLY", 0xD0: "CKR_TEMPLATE_INCOMPLETE", 0xD1: "CKR_TEMPLATE_INCONSISTENT",
        0xE0: "CKR_TOKEN_NOT_PRESENT", 0xE1: "CKR_TOKEN_NOT_RECOGNIZED", 0xE2: "CKR_TOKEN_WRITE_PROTECTED",
        0x100: "CKR_USER_ALREADY_LOGGED_IN", 0x101: "CKR_USER_NOT_LOGGED_IN", 0x102: "CKR_USER_PIN_NOT_INITIALIZED",
        0x103: "CKR_USER_TYPE_INVALID", 0x130: "CKR_DOMAIN_PARAMS_INVALID", 0x140: "CKR_CURVE_NOT_SUPPORTED",
        0x150: "CKR_BUFFER_TOO_SMALL", 0x190: "CKR_CRYPTOKI_NOT_INITIALIZED", 0x191: "CKR_CRYPTOKI_ALREADY_INITIALIZED",
    ]
}
