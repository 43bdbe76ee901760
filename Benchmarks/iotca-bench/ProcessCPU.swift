import Foundation

/// A process's CPU time with its direct children's, from /proc: a server's worker processes, or
/// PostgreSQL's backends under their postmaster. Per request, this is steadier than a rate on a
/// machine whose speed moves between runs.
enum ProcessCPU {
    /// User and system CPU seconds of `pid` and its direct children now running (0 for pid 0).
    static func seconds(_ pid: pid_t) -> Double {
        guard pid > 0 else { return 0 }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        var total = 0.0
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] where Int32(entry) != nil {
            // After the command's name in parentheses: state, ppid, ... utime (14th), stime (15th).
            guard let text = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let close = text.lastIndex(of: ")") else { continue }
            let fields = text[text.index(after: close)...].split(separator: " ")
            guard fields.count > 13, Int32(entry) == pid || Int32(fields[1]) == pid,
                  let user = Double(fields[11]), let system = Double(fields[12]) else { continue }
            total += (user + system) / ticks
        }
        return total
    }

    /// The CPU of `pids` (each with its children) together.
    static func seconds(_ pids: [pid_t]) -> Double { pids.reduce(0) { $0 + seconds($1) } }
}
