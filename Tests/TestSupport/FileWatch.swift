import Foundation

/// Waits for another process's progress without sleeping: the thread blocks in poll(2) on an
/// inotify descriptor for `folder` and re-checks `condition` each time something there is
/// created, written or moved in (a log line, a bundle), up to a deadline. A real broker or a
/// real `iotca batch` runs on its own time; what the test waits for is its next event.
public enum FileWatch {
    /// How many times `text` stands in `file` (0 when it cannot be read): a server's log lines.
    public static func occurrences(of text: String, in file: URL) -> Int {
        ((try? String(contentsOf: file, encoding: .utf8)) ?? "").components(separatedBy: text).count - 1
    }

    /// True once `condition` holds; false if `timeout` seconds pass first.
    public static func wait(in folder: URL, timeout: TimeInterval, until condition: () -> Bool) -> Bool {
        let descriptor = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
        guard descriptor >= 0 else { return condition() }
        defer { close(descriptor) }
        let events = UInt32(IN_CREATE) | UInt32(IN_MODIFY) | UInt32(IN_MOVED_TO) | UInt32(IN_CLOSE_WRITE)
        guard inotify_add_watch(descriptor, folder.path, events) >= 0 else { return condition() }
        let clock = ContinuousClock()
        let deadline = clock.now + .milliseconds(Int(timeout * 1000))
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !condition() {
            let left = deadline - clock.now
            guard left > .zero else { return condition() }
            // Woken by the next event; the slice bounds how long a state that came with no
            // event of its own (a socket starting to listen after its log line) goes unseen.
            var request = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let slice = min(Int32(left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000), 100)
            _ = poll(&request, 1, max(1, slice))
            while read(descriptor, &buffer, buffer.count) > 0 {}
        }
        return true
    }
}
