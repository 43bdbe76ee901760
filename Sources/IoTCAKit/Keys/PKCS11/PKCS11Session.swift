import CPKCS11
import Foundation
import Synchronization

/// A logged-in read-write session on a token, and a pool of more sessions for signing. A
/// PKCS#11 session runs one operation at a time: object lookups and key generation take turns
/// on the first session, and each signature borrows a session of its own from the pool (opened
/// on demand, at most `maximumSigners`; the login is the application's, so they are all logged
/// in). Measured with SoftHSM2 on 2 cores, 4 threads (`iotca-bench pkcs11`, token beside key
/// file in one run): one locked session bundled at 0.67 of the key file's rate, the pool at 0.91.
final class PKCS11Session: @unchecked Sendable {
    let module: PKCS11Module
    private let slot: CK_SLOT_ID
    /// The first session: lookups and key generation take turns on it. Replaced when the
    /// token closed it (`reconnect`).
    private let main: Mutex<CK_SESSION_HANDLE>
    /// Kept to log in again once when the token forgot the login (removed and put back, a
    /// session closed under us): a CA key in a token must not stop a service for good.
    private let pin: Passphrase
    private let idleSigners = Mutex<[CK_SESSION_HANDLE]>([])
    private static let maximumSigners = 64
    private let openedSigners = Atomic<Int>(0)
    private var functions: CK_FUNCTION_LIST { module.functions.pointee }

    init(module: PKCS11Module, slot: CK_SLOT_ID, pin: Passphrase) throws(PKCS11Error) {
        self.module = module
        self.slot = slot
        self.pin = pin
        main = Mutex(try Self.openLoggedIn(module.functions.pointee, slot: slot, pin: pin))
    }

    /// A new read-write session, logged in as the user.
    private static func openLoggedIn(_ functions: CK_FUNCTION_LIST, slot: CK_SLOT_ID, pin: Passphrase) throws(PKCS11Error) -> CK_SESSION_HANDLE {
        var session: CK_SESSION_HANDLE = 0
        let flags = CK_FLAGS(CKF_SERIAL_SESSION | CKF_RW_SESSION)
        try PKCS11Module.check(functions.C_OpenSession?(slot, flags, nil, nil, &session) ?? CK_RV(CKR_FUNCTION_FAILED), "C_OpenSession")
        var bytes = pin.bytes
        defer { for index in bytes.indices { bytes[index] = 0 } }
        let code = bytes.withUnsafeMutableBufferPointer { buffer in
            functions.C_Login?(session, CK_USER_TYPE(CKU_USER), buffer.baseAddress, CK_ULONG(buffer.count)) ?? CK_RV(CKR_FUNCTION_FAILED)
        }
        // Logged in already (the token's login is per application, not per session): fine.
        guard code == CKR_OK || code == CKR_USER_ALREADY_LOGGED_IN else {
            _ = functions.C_CloseSession?(session)
            throw .call(function: "C_Login", code: code)
        }
        return session
    }

    /// After the token closed our sessions or forgot the login: the idle signing sessions go,
    /// the first session is opened and logged in anew. - Throws: what the token says now (a
    /// token still away: `CKR_TOKEN_NOT_PRESENT`, kind unavailable).
    func reconnect() throws(PKCS11Error) {
        let idle = idleSigners.withLock { sessions in
            defer { sessions.removeAll() }
            return sessions
        }
        for session in idle { _ = functions.C_CloseSession?(session) }
        openedSigners.subtract(idle.count, ordering: .relaxed)
        let functions = self.functions, slot = self.slot, pin = self.pin
        try main.withLock { (handle: inout CK_SESSION_HANDLE) throws(PKCS11Error) in
            // Another thread may have reconnected already: a session logged in is kept.
            var info = CK_SESSION_INFO()
            if functions.C_GetSessionInfo?(handle, &info) == CKR_OK && info.state == CK_STATE(CKS_RW_USER_FUNCTIONS) { return }
            _ = functions.C_CloseSession?(handle)
            handle = try Self.openLoggedIn(functions, slot: slot, pin: pin)
        }
    }

    /// Codes after which the session or the login is gone, but the token may well be back. A
    /// private key's handle is invalid while nobody is logged in (SoftHSM2 says so then).
    static func lostSession(_ code: CK_RV) -> Bool {
        code == CKR_SESSION_HANDLE_INVALID || code == CKR_SESSION_CLOSED || code == CKR_USER_NOT_LOGGED_IN
            || code == CKR_TOKEN_NOT_PRESENT || code == CKR_DEVICE_REMOVED || code == CKR_OBJECT_HANDLE_INVALID
            || code == CKR_KEY_HANDLE_INVALID
    }

    /// Closes every session of this application on the token, as removing it does (the login
    /// goes with them): what the recovery is tested against, with a real token.
    func closeAllSessions() {
        _ = functions.C_CloseAllSessions?(slot)
    }

    /// A session that lost the race to be the token's (two threads opened one at once) or
    /// outlived its keys: its handles go back to the token; the login stays with the others.
    deinit {
        for session in idleSigners.withLock({ $0 }) { _ = functions.C_CloseSession?(session) }
        _ = functions.C_CloseSession?(main.withLock { $0 })
    }

    // MARK: Objects

    /// Handles of the objects of `objectClass` with the label and id given (nil matches any).
    func find(_ objectClass: CK_OBJECT_CLASS, label: String?, id: [UInt8]?) throws(PKCS11Error) -> [CK_OBJECT_HANDLE] {
        var template = AttributeList()
        template.add(CK_ATTRIBUTE_TYPE(CKA_CLASS), value: objectClass)
        if let label { template.add(CK_ATTRIBUTE_TYPE(CKA_LABEL), bytes: Array(label.utf8)) }
        if let id { template.add(CK_ATTRIBUTE_TYPE(CKA_ID), bytes: id) }
        return try main.withLock { handle throws(PKCS11Error) -> [CK_OBJECT_HANDLE] in
            let started = template.withAttributes { attributes, count in
                functions.C_FindObjectsInit?(handle, attributes, count) ?? CK_RV(CKR_FUNCTION_FAILED)
            }
            try PKCS11Module.check(started, "C_FindObjectsInit")
            defer { _ = functions.C_FindObjectsFinal?(handle) }
            var found: [CK_OBJECT_HANDLE] = []
            var batch = [CK_OBJECT_HANDLE](repeating: 0, count: 16)
            while true {
                var count: CK_ULONG = 0
                try PKCS11Module.check(functions.C_FindObjects?(handle, &batch, CK_ULONG(batch.count), &count) ?? CK_RV(CKR_FUNCTION_FAILED), "C_FindObjects")
                if count == 0 { break }
                found += batch.prefix(Int(count))
                if found.count > 1_024 { break }
            }
            return found
        }
    }

    /// The value of one attribute; nil when the object does not have it (or will not show it).
    func attribute(_ type: CK_ATTRIBUTE_TYPE, of object: CK_OBJECT_HANDLE) throws(PKCS11Error) -> [UInt8]? {
        try main.withLock { handle throws(PKCS11Error) -> [UInt8]? in
            var query = CK_ATTRIBUTE(type: type, pValue: nil, ulValueLen: 0)
            let sized = functions.C_GetAttributeValue?(handle, object, &query, 1) ?? CK_RV(CKR_FUNCTION_FAILED)
            if sized == CKR_ATTRIBUTE_SENSITIVE || sized == CKR_ATTRIBUTE_TYPE_INVALID || query.ulValueLen == CK_ULONG.max { return nil }
            try PKCS11Module.check(sized, "C_GetAttributeValue")
            var value = [UInt8](repeating: 0, count: Int(query.ulValueLen))
            let code = value.withUnsafeMutableBytes { buffer in
                query.pValue = buffer.baseAddress
                return functions.C_GetAttributeValue?(handle, object, &query, 1) ?? CK_RV(CKR_FUNCTION_FAILED)
            }
            try PKCS11Module.check(code, "C_GetAttributeValue")
            return Array(value.prefix(Int(query.ulValueLen)))
        }
    }

    /// A key pair made inside the token: the private key sensitive, never extractable, for
    /// signing only; both on the token under `label` and `id`.
    func generateKeyPair(_ algorithm: KeyAlgorithm, label: String, id: [UInt8]) throws(PKCS11Error)
        -> (privateKey: CK_OBJECT_HANDLE, publicKey: CK_OBJECT_HANDLE) {
        var publicTemplate = AttributeList(), privateTemplate = AttributeList()
        var mechanism = CK_MECHANISM(mechanism: 0, pParameter: nil, ulParameterLen: 0)
        switch algorithm {
        case .ecP256, .ecP384:
            mechanism.mechanism = CK_MECHANISM_TYPE(CKM_EC_KEY_PAIR_GEN)
            publicTemplate.add(CK_ATTRIBUTE_TYPE(CKA_EC_PARAMS), bytes: algorithm == .ecP256 ? TokenKey.p256Parameters : TokenKey.p384Parameters)
        case .rsa2048, .rsa3072, .rsa4096:
            mechanism.mechanism = CK_MECHANISM_TYPE(CKM_RSA_PKCS_KEY_PAIR_GEN)
            publicTemplate.add(CK_ATTRIBUTE_TYPE(CKA_MODULUS_BITS), value: CK_ULONG(algorithm == .rsa2048 ? 2048 : algorithm == .rsa3072 ? 3072 : 4096))
            publicTemplate.add(CK_ATTRIBUTE_TYPE(CKA_PUBLIC_EXPONENT), bytes: [0x01, 0x00, 0x01])
        case .ed25519:
            throw .unsupportedKey("ed25519 CA keys are file keys only (PKCS#11 EdDSA support varies by token)")
        }
        publicTemplate.addCAPublicKeyUse(label: label, id: id)
        privateTemplate.addCAPrivateKeyUse(label: label, id: id)
        return try main.withLock { handle throws(PKCS11Error) in
            var publicKey: CK_OBJECT_HANDLE = 0, privateKey: CK_OBJECT_HANDLE = 0
            let code = publicTemplate.withAttributes { publicAttributes, publicCount in
                privateTemplate.withAttributes { privateAttributes, privateCount in
                    functions.C_GenerateKeyPair?(handle, &mechanism, publicAttributes, publicCount, privateAttributes, privateCount,
                                                 &publicKey, &privateKey) ?? CK_RV(CKR_FUNCTION_FAILED)
                }
            }
            try PKCS11Module.check(code, "C_GenerateKeyPair")
            return (privateKey, publicKey)
        }
    }

    /// Stores a private key made outside (a file key moved into the token) as sensitive and
    /// not extractable, with its public key; the attribute lists hold the key's own values.
    func importKeyPair(privateAttributes: AttributeList, publicAttributes: AttributeList, label: String,
                       id: [UInt8]) throws(PKCS11Error) -> CK_OBJECT_HANDLE {
        var privateTemplate = privateAttributes, publicTemplate = publicAttributes
        privateTemplate.add(CK_ATTRIBUTE_TYPE(CKA_CLASS), value: CK_OBJECT_CLASS(CKO_PRIVATE_KEY))
        privateTemplate.addCAPrivateKeyUse(label: label, id: id)
        publicTemplate.add(CK_ATTRIBUTE_TYPE(CKA_CLASS), value: CK_OBJECT_CLASS(CKO_PUBLIC_KEY))
        publicTemplate.addCAPublicKeyUse(label: label, id: id)
        return try main.withLock { handle throws(PKCS11Error) in
            var privateKey: CK_OBJECT_HANDLE = 0, publicKey: CK_OBJECT_HANDLE = 0
            try PKCS11Module.check(privateTemplate.withAttributes { attributes, count in
                functions.C_CreateObject?(handle, attributes, count, &privateKey) ?? CK_RV(CKR_FUNCTION_FAILED)
            }, "C_CreateObject")
            let code = publicTemplate.withAttributes { attributes, count in
                functions.C_CreateObject?(handle, attributes, count, &publicKey) ?? CK_RV(CKR_FUNCTION_FAILED)
            }
            if code != CKR_OK { _ = functions.C_DestroyObject?(handle, privateKey) }
            try PKCS11Module.check(code, "C_CreateObject")
            return privateKey
        }
    }

    func destroy(_ object: CK_OBJECT_HANDLE) {
        main.withLock { handle in _ = functions.C_DestroyObject?(handle, object) }
    }

    /// `C_Sign` of `data` with `mechanism` (no parameters), on a session of the pool.
    func sign(_ data: [UInt8], with key: CK_OBJECT_HANDLE, mechanism type: CK_MECHANISM_TYPE) throws(PKCS11Error) -> [UInt8] {
        let session = try borrowSigner()
        var healthy = true
        defer {
            if healthy {
                idleSigners.withLock { $0.append(session) }
            } else {
                openedSigners.subtract(1, ordering: .relaxed)
            }
        }
        var mechanism = CK_MECHANISM(mechanism: type, pParameter: nil, ulParameterLen: 0)
        let started = functions.C_SignInit?(session, &mechanism, key) ?? CK_RV(CKR_FUNCTION_FAILED)
        guard started == CKR_OK else {
            healthy = Self.sessionSurvives(started)
            throw .call(function: "C_SignInit", code: started)
        }
        var input = data
        var length: CK_ULONG = 1_024
        var signature = [UInt8](repeating: 0, count: Int(length))
        let code = input.withUnsafeMutableBufferPointer { message in
            functions.C_Sign?(session, message.baseAddress, CK_ULONG(message.count), &signature, &length) ?? CK_RV(CKR_FUNCTION_FAILED)
        }
        guard code == CKR_OK else {
            healthy = Self.sessionSurvives(code)
            throw .call(function: "C_Sign", code: code)
        }
        return Array(signature.prefix(Int(length)))
    }

    /// An idle signing session, else a new one while the pool has room; past the maximum (more
    /// threads signing at once than `serve` runs workers) a caller yields until one comes back.
    private func borrowSigner() throws(PKCS11Error) -> CK_SESSION_HANDLE {
        while true {
            if let idle = idleSigners.withLock({ $0.popLast() }) { return idle }
            if openedSigners.add(1, ordering: .relaxed).newValue <= Self.maximumSigners {
                var session: CK_SESSION_HANDLE = 0
                let code = functions.C_OpenSession?(slot, CK_FLAGS(CKF_SERIAL_SESSION), nil, nil, &session) ?? CK_RV(CKR_FUNCTION_FAILED)
                guard code == CKR_OK else {
                    openedSigners.subtract(1, ordering: .relaxed)
                    throw .call(function: "C_OpenSession", code: code)
                }
                return session
            }
            openedSigners.subtract(1, ordering: .relaxed)
            sched_yield()
        }
    }

    /// A session whose operation failed this way is closed by the token (removed, closed).
    private static func sessionSurvives(_ code: CK_RV) -> Bool {
        !(code == CKR_SESSION_HANDLE_INVALID || code == CKR_SESSION_CLOSED || code == CKR_DEVICE_REMOVED || code == CKR_TOKEN_NOT_PRESENT)
    }
}

/// A CK_ATTRIBUTE template whose values live as long as the list.
struct AttributeList {
    private var entries: [(CK_ATTRIBUTE_TYPE, [UInt8])] = []

    mutating func add(_ type: CK_ATTRIBUTE_TYPE, bytes: [UInt8]) { entries.append((type, bytes)) }
    mutating func add(_ type: CK_ATTRIBUTE_TYPE, bool: Bool) { entries.append((type, [bool ? 1 : 0])) }
    mutating func add<Value: FixedWidthInteger>(_ type: CK_ATTRIBUTE_TYPE, value: Value) {
        entries.append((type, withUnsafeBytes(of: value) { Array($0) }))
    }

    /// A CA's private key: on the token, behind the PIN, sensitive, never extractable, and it
    /// signs and does nothing else.
    mutating func addCAPrivateKeyUse(label: String, id: [UInt8]) {
        for (type, value) in [(CKA_TOKEN, true), (CKA_PRIVATE, true), (CKA_SENSITIVE, true), (CKA_EXTRACTABLE, false), (CKA_SIGN, true),
                              (CKA_DECRYPT, false), (CKA_UNWRAP, false)] {
            add(CK_ATTRIBUTE_TYPE(type), bool: value)
        }
        add(CK_ATTRIBUTE_TYPE(CKA_LABEL), bytes: Array(label.utf8))
        add(CK_ATTRIBUTE_TYPE(CKA_ID), bytes: id)
    }

    /// Its public key beside it: it verifies, nothing else.
    mutating func addCAPublicKeyUse(label: String, id: [UInt8]) {
        for (type, value) in [(CKA_TOKEN, true), (CKA_VERIFY, true), (CKA_ENCRYPT, false), (CKA_WRAP, false)] {
            add(CK_ATTRIBUTE_TYPE(type), bool: value)
        }
        add(CK_ATTRIBUTE_TYPE(CKA_LABEL), bytes: Array(label.utf8))
        add(CK_ATTRIBUTE_TYPE(CKA_ID), bytes: id)
    }

    /// Calls `body` with CK_ATTRIBUTEs pointing into copies that stay alive for the call.
    func withAttributes<Result>(_ body: (UnsafeMutablePointer<CK_ATTRIBUTE>?, CK_ULONG) -> Result) -> Result {
        let buffers = entries.map { entry -> UnsafeMutableRawBufferPointer in
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(entry.1.count, 1), alignment: 8)
            buffer.copyBytes(from: entry.1)
            return buffer
        }
        defer { buffers.forEach { $0.deallocate() } }
        var attributes = zip(entries, buffers).map { entry, buffer in
            CK_ATTRIBUTE(type: entry.0, pValue: buffer.baseAddress, ulValueLen: CK_ULONG(entry.1.count))
        }
        return attributes.withUnsafeMutableBufferPointer { body($0.baseAddress, CK_ULONG($0.count)) }
    }
}
