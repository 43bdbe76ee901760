import CPKCS11
import Foundation
import Synchronization

/// A PKCS#11 module (the token vendor's library), loaded with dlopen once per process and
/// initialised for use from many threads (CKF_OS_LOCKING_OK). Never unloaded: sessions and
/// keys made from it live as long as the process.
final class PKCS11Module: @unchecked Sendable {
    let path: String
    let functions: UnsafeMutablePointer<CK_FUNCTION_LIST>
    /// One logged-in session per token label, shared by every thread of the process.
    private let sessions = Mutex<[String: PKCS11Session]>([:])
    private static let loaded = Mutex<[String: PKCS11Module]>([:])

    static func load(_ path: String) throws(PKCS11Error) -> PKCS11Module {
        try loaded.withLock { modules throws(PKCS11Error) -> PKCS11Module in
            if let module = modules[path] { return module }
            let module = try PKCS11Module(path: path)
            modules[path] = module
            return module
        }
    }

    private init(path: String) throws(PKCS11Error) {
        self.path = path
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            throw .moduleUnavailable(path: path, reason: dlerror().map { String(cString: $0) } ?? "dlopen failed")
        }
        guard let symbol = dlsym(handle, "C_GetFunctionList") else {
            throw .moduleUnavailable(path: path, reason: "it has no C_GetFunctionList: not a PKCS#11 module")
        }
        let getFunctionList = unsafeBitCast(symbol, to: CK_C_GetFunctionList.self)
        var list: UnsafeMutablePointer<CK_FUNCTION_LIST>?
        let code = getFunctionList(&list)
        guard code == CKR_OK, let list else { throw .call(function: "C_GetFunctionList", code: code) }
        functions = list
        var arguments = CK_C_INITIALIZE_ARGS()
        arguments.flags = CK_FLAGS(CKF_OS_LOCKING_OK)
        let initialized = withUnsafeMutablePointer(to: &arguments) { pointer in
            list.pointee.C_Initialize?(UnsafeMutableRawPointer(pointer)) ?? CK_RV(CKR_FUNCTION_FAILED)
        }
        // Another part of this process may have initialised it: that is fine.
        guard initialized == CKR_OK || initialized == CKR_CRYPTOKI_ALREADY_INITIALIZED else {
            throw .call(function: "C_Initialize", code: initialized)
        }
    }

    static func check(_ code: CK_RV, _ function: String) throws(PKCS11Error) {
        guard code == CKR_OK else { throw .call(function: function, code: code) }
    }

    /// The slot whose token has `label`.
    func slot(token label: String) throws(PKCS11Error) -> CK_SLOT_ID {
        var count: CK_ULONG = 0
        try Self.check(functions.pointee.C_GetSlotList?(CK_BBOOL(CK_TRUE), nil, &count) ?? CK_RV(CKR_FUNCTION_FAILED), "C_GetSlotList")
        var slots = [CK_SLOT_ID](repeating: 0, count: Int(count))
        try Self.check(functions.pointee.C_GetSlotList?(CK_BBOOL(CK_TRUE), &slots, &count) ?? CK_RV(CKR_FUNCTION_FAILED), "C_GetSlotList")
        var labels: [String] = []
        for slot in slots.prefix(Int(count)) {
            var info = CK_TOKEN_INFO()
            guard functions.pointee.C_GetTokenInfo?(slot, &info) == CKR_OK else { continue }
            let text = withUnsafeBytes(of: &info.label) { String(decoding: $0, as: UTF8.self) }
                .trimmingCharacters(in: CharacterSet(charactersIn: " \0"))
            if text == label { return slot }
            // SoftHSM2 and others show an empty token in a free slot: not worth naming.
            if !text.isEmpty { labels.append(text) }
        }
        throw .tokenNotFound(label: label, present: labels)
    }

    /// The process's session on the token `label`, logged in with `pin()` the first time.
    func session(token label: String, pin: () throws -> Passphrase) throws -> PKCS11Session {
        if let open = sessions.withLock({ $0[label] }) { return open }
        let slot = try slot(token: label)
        let session = try PKCS11Session(module: self, slot: slot, pin: try pin())
        return sessions.withLock { open in
            if let other = open[label] { return other }
            open[label] = session
            return session
        }
    }
}
