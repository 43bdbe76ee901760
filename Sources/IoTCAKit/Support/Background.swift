import Foundation

/// Work started on a thread of its own and waited for where its result is needed: a CRL's
/// publication unlocks the CA key while the store reads the entries, and checks the signed CRL
/// while the store writes it, on a machine's second core. `value()` may be asked more than once.
final class Background<Value: Sendable>: @unchecked Sendable {
    private let finished = DispatchGroup()
    // Written once by the thread before `finished` is left; read only after waiting for it.
    private var result: Result<Value, any Error>?

    init(_ work: @escaping @Sendable () throws -> Value) {
        finished.enter()
        Thread { [self] in
            result = Result { try work() }
            finished.leave()
        }.start()
    }

    func value() throws -> Value {
        finished.wait()
        guard let result else { preconditionFailure("the group is left only after the result is set") }
        return try result.get()
    }
}
