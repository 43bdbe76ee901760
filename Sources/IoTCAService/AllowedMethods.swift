import Hummingbird
import Synchronization

/// The methods each route takes, so that a known path asked with another method is answered
/// 405 with `Allow` (RFC 9110 15.5.6) rather than 404: Hummingbird's router answers both with
/// its not-found responder. Filled once, after the routes are registered.
final class AllowedMethods: Sendable {
    private let routes = Mutex<[(pattern: [Substring], methods: Set<String>)]>([])

    func register<Context>(_ router: Router<Context>) {
        var table: [[Substring]: Set<String>] = [:]
        for route in router.routes {
            let pattern = "\(route.path)".split(separator: "/")
            table[pattern, default: []].insert(route.method.rawValue)
        }
        routes.withLock { $0 = table.map { ($0.key, $0.value) } }
    }

    /// The methods of the route `path` would reach, most specific pattern first as the
    /// router's trie prefers literal segments; nil when no route has that path.
    func methods(for path: String) -> [String]? {
        let segments = path.split(separator: "/")
        let matching = routes.withLock { $0 }.filter { Self.matches($0.pattern, segments) }
        guard let best = matching.map({ Self.literals($0.pattern) }).max() else { return nil }
        return matching.filter { Self.literals($0.pattern) == best }
            .reduce(into: Set<String>()) { $0.formUnion($1.methods) }.sorted()
    }

    private static func matches(_ pattern: [Substring], _ segments: [Substring]) -> Bool {
        if pattern.last == "**" {
            return segments.count >= pattern.count && zip(pattern.dropLast(), segments).allSatisfy(segmentMatches)
        }
        return pattern.count == segments.count && zip(pattern, segments).allSatisfy(segmentMatches)
    }

    /// Hummingbird describes a capture as `{name}`, a wildcard as `*`, the rest of a path as `**`.
    private static func segmentMatches(_ pattern: Substring, _ segment: Substring) -> Bool {
        pattern.hasPrefix("{") || pattern == "*" || pattern == segment
    }

    private static func literals(_ pattern: [Substring]) -> Int {
        pattern.filter { !$0.hasPrefix("{") && $0 != "*" && $0 != "**" }.count
    }
}
