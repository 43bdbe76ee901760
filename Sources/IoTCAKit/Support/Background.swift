import Foundation

/// Work started on a thread of its own and waited for where its result is needed: a CRL's
/// publication unlocks the CA key while the store reads the entries, and checks the signed CRL
/// while the store writes it, on a machine's second core. `value()` may be asked more than once.
/// When no thread can be had (pthread_create fails: EAGAIN), the work runs at once on the
/// calling thread, so `value()` never waits for a thread that never started.
final class Background<Value: Sendable>: @unchecked Sendable {
    private let finished = DispatchGroup()
    // Written once by the worker before `finished` is left; read only after waiting for it.
    private var result: Result<Value, any Error>?

    init(_ work: @escaping @Sendable () throws -> Value) {
        finished.enter()
        let run: @Sendable () -> Void = { [self] in
            result = Result { try work() }
            finished.leave()
        }
        if !DetachedThread.start(run) { run() }
    }

    func value() throws -> Value {
        finished.wait()
        guard let result else { preconditionFailure("the group is left only after the result is set") }
        return try result.get()
    }
}

/// A detached POSIX thread (outside the generic class: a C function pointer cannot be formed
/// in a generic context).
private enum DetachedThread {
    final class Body: @unchecked Sendable {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }

    /// False if no thread could be created (Foundation's `Thread.start` gives no such answer).
    static func start(_ run: @escaping @Sendable () -> Void) -> Bool {
        let body = Unmanaged.passRetained(Body(run)).toOpaque()
        var thread = pthread_t()
        let code = pthread_create(&thread, nil, { pointer in
            guard let pointer else { return nil }
            Unmanaged<Body>.fromOpaque(pointer).takeRetainedValue().run()
            return nil
        }, body)
        guard code == 0 else {
            Unmanaged<Body>.fromOpaque(body).release()
            return false
        }
        pthread_detach(thread)
        return true
    }
}
