import Foundation

/// Runs work over a fixed number of worker threads, each with its own state (a key generator
/// is not thread-safe), and collects results by index.
enum Parallel {
    static func map<State, Result>(
        _ count: Int, workers: Int, state: [State], _ body: (inout State, Int) -> Result
    ) -> [Result] {
        let workerCount = max(1, min(workers, state.count, count))
        let results = UnsafeMutablePointer<Result?>.allocate(capacity: count)
        results.initialize(repeating: nil, count: count)
        let states = UnsafeMutablePointer<State>.allocate(capacity: state.count)
        states.initialize(from: state, count: state.count)
        defer {
            results.deinitialize(count: count)
            results.deallocate()
            states.deinitialize(count: state.count)
            states.deallocate()
        }
        // Each worker owns one state slot and a strided slice of the indices, so no two
        // threads ever touch the same memory.
        let shared = SharedPointers(results: results, states: states)
        withoutActuallyEscaping(body) { body in
            let box = BodyBox(body: body)
            DispatchQueue.concurrentPerform(iterations: workerCount) { worker in
                for index in stride(from: worker, to: count, by: workerCount) {
                    shared.results[index] = box.body(&shared.states[worker], index)
                }
            }
        }
        return (0..<count).map { index in
            // Every index was written above; `!` cannot fail here.
            results[index].unsafelyUnwrapped
        }
    }

    private struct SharedPointers<State, Result>: @unchecked Sendable {
        let results: UnsafeMutablePointer<Result?>
        let states: UnsafeMutablePointer<State>
    }

    private struct BodyBox<State, Result>: @unchecked Sendable {
        let body: (inout State, Int) -> Result
    }
}
