import CPKCS11
import Foundation
import Synchronization

/// One logged-in read-write session on a token. A PKCS#11 session runs one operation at a
/// time, so calls are serialised by a lock: every thread of `serve` or `batch` signs through it
/// (a CA signature is one call; a token signs far slower than the lock is taken).
final class PKCS11Session: @unchecked Sendable {
    let module: PKCS11Module
    private let handle: CK_SESSION_HANDLE
    private let lock = Mutex(())
    private var functions: CK_FUNCTION_LIST { module.functions.pointee }

    init(module: PKCS11Module, slot: CK_SLOT_ID, pin: Passphrase) throws(PKCS11Error) {
        self.module = module
        var session: CK_SESSION_HANDLE = 0
        let flags = CK_FLAGS(CKF_SERIAL_SESSION | CKF_RW_SESSION)
        try PKCS11Module.check(module.functions.pointee.C_OpenSession?(slot, flags, nil, nil, &session) ?? CK_RV(CKR_FUNCTION_FAILED), "C_OpenSession")
        handle = session
        var bytes = pin.bytes
        defer { for index in bytes.indices { bytes[index] = 0 } }
        let code = bytes.withUnsafeMutableBufferPointer { buffer in
            module.functions.pointee.C_Login?(session, CK_USER_TYPE(CKU_USER), buffer.baseAddress, CK_ULONG(buffer.count)) ?? CK_RV(CKR_FUNCTION_FAILED)
        }
        // Logged in already (the token's login is per application, not per session): fine.
        guard code == CKR_OK || code == CKR_USER_ALREADY_LOGGED_IN else {
            _ = module.functions.pointee.C_CloseSession?(session)
            throw .call(function: "C_Login", code: code)
        }
    }

    // MARK: Objects

    /// Handles of the objects of `objectClass` with the label and id given (nil matches any).
    func find(_ objectClass: CK_OBJECT_CLASS, label: String?, id: [UInt8]?) throws(PKCS11Error) -> [CK_OBJECT_HANDLE] {
        var template = AttributeList()
        template.add(CK_ATTRIBUTE_TYPE(CKA_CLASS), value: objectClass)
        if let label { template.add(CK_ATTRIBUTE_TYPE(CKA_LABEL), bytes: Array(label.utf8)) }
        if let id { template.add(CK_ATTRIBUTE_TYPE(CKA_ID), bytes: id) }
        return try lock.withLock { _ throws(PKCS11Error) -> [CK_OBJECT_HANDLE] in
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
        try lock.withLock { _ throws(PKCS11Error) -> [UInt8]? in
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
        publicTemplate.add(CK_ATTRIBUTE_TYPE(CKA_TOKEN), bool: true)
        publicTemplate.add(CK_ATTRIBUTE_TYPE(CKA_VERIFY), bool: true)
        publicTemplate.add(CK_ATTRIBUTE_TYPE(CKA_ENCRYPT), bool: false)
        publicTemplate.add(CK_ATTRIBUTE_TYPE(CKA_WRAP), bool: false)
        publicTemplate.add(CK_ATTRIBUTE_TYPE(CKA_LABEL), bytes: Array(label.utf8))
        publicTemplate.add(CK_ATTRIBUTE_TYPE(CKA_ID), bytes: id)
        privateTemplate.add(CK_ATTRIBUTE_TYPE(CKA_TOKEN), bool: true)
        privateTemplate.add(CK_ATTRIBUTE_TYPE(CKA_PRIVATE), bool: true)
        privateTemplate.add(CK_ATTRIBUTE_TYPE(CKA_SENSITIVE), bool: true)
        privateTemplate.add(CK_ATTRIBUTE_TYPE(CKA_EXTRACTABLE), bool: false)
        privateTemplate.add(CK_ATTRIBUTE_TYPE(CKA_SIGN), bool: true)
        // A CA key signs and does nothing else.
        privateTemplate.add(CK_ATTRIBUTE_TYPE(CKA_DECRYPT), bool: false)
        privateTemplate.add(CK_ATTRIBUTE_TYPE(CKA_UNWRAP), bool: false)
        privateTemplate.add(CK_ATTRIBUTE_TYPE(CKA_LABEL), bytes: Array(label.utf8))
        privateTemplate.add(CK_ATTRIBUTE_TYPE(CKA_ID), bytes: id)
        return try lock.withLock { _ throws(PKCS11Error) in
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
    /// never extractable, with its public key; `attributes` are the key's own (type, values).
    func importKeyPair(privateAttributes: AttributeList, publicAttributes: AttributeList, label: String,
                       id: [UInt8]) throws(PKCS11Error) -> CK_OBJECT_HANDLE {
        var privateTemplate = privateAttributes, publicTemplate = publicAttributes
        privateTemplate.add(CK_ATTRIBUTE_TYPE(CKA_CLASS), value: CK_OBJECT_CLASS(CKO_PRIVATE_KEY))
        for (type, value) in [(CKA_TOKEN, true), (CKA_PRIVATE, true), (CKA_SENSITIVE, true), (CKA_EXTRACTABLE, false), (CKA_SIGN, true)] {
            privateTemplate.add(CK_ATTRIBUTE_TYPE(type), bool: value)
        }
        privateTemplate.add(CK_ATTRIBUTE_TYPE(CKA_LABEL), bytes: Array(label.utf8))
        privateTemplate.add(CK_ATTRIBUTE_TYPE(CKA_ID), bytes: id)
        publicTemplate.add(CK_ATTRIBUTE_TYPE(CKA_CLASS), value: CK_OBJECT_CLASS(CKO_PUBLIC_KEY))
        publicTemplate.add(CK_ATTRIBUTE_TYPE(CKA_TOKEN), bool: true)
        publicTemplate.add(CK_ATTRIBUTE_TYPE(CKA_VERIFY), bool: true)
        publicTemplate.add(CK_ATTRIBUTE_TYPE(CKA_LABEL), bytes: Array(label.utf8))
        publicTemplate.add(CK_ATTRIBUTE_TYPE(CKA_ID), bytes: id)
        return try lock.withLock { _ throws(PKCS11Error) in
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
        lock.withLock { _ in _ = functions.C_DestroyObject?(handle, object) }
    }

    /// `C_Sign` of `data` with `mechanism` (no parameters).
    func sign(_ data: [UInt8], with key: CK_OBJECT_HANDLE, mechanism type: CK_MECHANISM_TYPE) throws(PKCS11Error) -> [UInt8] {
        try lock.withLock { _ throws(PKCS11Error) -> [UInt8] in
            var mechanism = CK_MECHANISM(mechanism: type, pParameter: nil, ulParameterLen: 0)
            try PKCS11Module.check(functions.C_SignInit?(handle, &mechanism, key) ?? CK_RV(CKR_FUNCTION_FAILED), "C_SignInit")
            var input = data
            var length: CK_ULONG = 1_024
            var signature = [UInt8](repeating: 0, count: Int(length))
            let code = input.withUnsafeMutableBufferPointer { message in
                functions.C_Sign?(handle, message.baseAddress, CK_ULONG(message.count), &signature, &length) ?? CK_RV(CKR_FUNCTION_FAILED)
            }
            try PKCS11Module.check(code, "C_Sign")
            return Array(signature.prefix(Int(length)))
        }
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
