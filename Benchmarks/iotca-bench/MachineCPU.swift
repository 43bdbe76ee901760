import Foundation

/// The whole machine's CPU time, from /proc/stat. Where the nodes, the database and the load
/// generator share the cores, a row with every core busy is bound by the CPU: more nodes or
/// more connections cannot raise it, whatever the latency or the locks.
struct MachineCPU {
    let busy: UInt64
    let total: UInt64

    static func now() -> MachineCPU? {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("cpu ") }) else { return nil }
        // user nice system idle iowait irq softirq steal (guest time is counted in user already)
        let fields = line.split(separator: " ").dropFirst().prefix(8).compactMap { UInt64($0) }
        guard fields.count == 8 else { return nil }
        let total = fields.reduce(0, +)
        return MachineCPU(busy: total - fields[3] - fields[4], total: total)
    }

    /// How busy all the cores were since `start`, in percent; nil when nothing was counted.
    func busyPercent(since start: MachineCPU) -> Double? {
        guard total > start.total else { return nil }
        return Double(busy - start.busy) / Double(total - start.total) * 100
    }
}
