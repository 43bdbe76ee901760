import Foundation
import Testing
import TestSupport

/// The documentation's house holds together: every relative link of the README and the guides
/// names a file that exists and, with `#anchor`, a heading in it (GitHub's anchors).
@Suite struct DocumentationTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The Markdown files people read: the README and every file under docs/.
    static var documents: [URL] {
        let docs = root.appendingPathComponent("docs")
        let guides = (try? FileManager.default.contentsOfDirectory(atPath: docs.path)) ?? []
        return [root.appendingPathComponent("README.md")]
            + guides.filter { $0.hasSuffix(".md") }.sorted().map { docs.appendingPathComponent($0) }
    }

    /// Lines outside fenced code blocks.
    static func prose(_ text: String) -> [String] {
        var inFence = false
        return text.split(separator: "\n", omittingEmptySubsequences: false).compactMap { line in
            if line.hasPrefix("```") { inFence.toggle(); return nil }
            return inFence ? nil : String(line)
        }
    }

    /// GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens; a
    /// repeated one gets -1, -2.
    static func anchors(_ text: String) -> Set<String> {
        var seen: [String: Int] = [:]
        var anchors = Set<String>()
        for line in prose(text) where line.hasPrefix("#") {
            let title = line.drop { $0 == "#" }.trimmingCharacters(in: .whitespaces)
            let slug = String(title.lowercased().unicodeScalars.filter {
                CharacterSet.alphanumerics.contains($0) || $0 == "-" || $0 == "_" || $0 == " "
            }.map(Character.init)).replacingOccurrences(of: " ", with: "-")
            let count = seen[slug, default: 0]
            anchors.insert(count == 0 ? slug : "\(slug)-\(count)")
            seen[slug] = count + 1
        }
        return anchors
    }

    /// `](target)` links that are not URLs.
    static func links(_ text: String) -> [String] {
        let pattern = try? NSRegularExpression(pattern: #"\]\(([^)\s]+)\)"#)
        return prose(text).flatMap { line -> [String] in
            let range = NSRange(line.startIndex..., in: line)
            return (pattern?.matches(in: line, range: range) ?? []).compactMap { match in
                Range(match.range(at: 1), in: line).map { String(line[$0]) }
            }
        }.filter { !$0.contains("://") && !$0.hasPrefix("mailto:") }
    }

    @Test func everyRelativeLinkAndAnchorResolves() throws {
        var broken: [String] = []
        for document in Self.documents {
            let text = try String(contentsOf: document, encoding: .utf8)
            for link in Self.links(text) {
                let parts = link.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                let target = parts[0].isEmpty ? document : document.deletingLastPathComponent().appendingPathComponent(parts[0]).standardizedFileURL
                guard FileManager.default.fileExists(atPath: target.path) else {
                    broken.append("\(document.lastPathComponent): \(link) (no such file)")
                    continue
                }
                if parts.count == 2, target.pathExtension == "md" {
                    let anchors = Self.anchors(try String(contentsOf: target, encoding: .utf8))
                    if !anchors.contains(parts[1]) { broken.append("\(document.lastPathComponent): \(link) (no such heading)") }
                }
            }
        }
        #expect(broken.isEmpty, "\(broken.joined(separator: "\n"))")
        #expect(Self.documents.count > 5)
    }

    /// docs/commands.md is the code's help, rendered: it cannot drift from the commands.
    @Test func theCommandReferenceIsAFreshRenderOfTheCode() throws {
        let dump = try ProcessRunner.run(ProcessRunner.iotcaExecutable, ["--experimental-dump-help"])
        #expect(dump.succeeded, "\(dump.stderr)")
        let rendered = try ProcessRunner.run("python3", [Self.root.appendingPathComponent("scripts/commands_markdown.py").path],
                                             input: Data(dump.stdout.utf8))
        #expect(rendered.succeeded, "\(rendered.stderr)")
        let committed = try String(contentsOf: Self.root.appendingPathComponent("docs/commands.md"), encoding: .utf8)
        #expect(rendered.stdout == committed, "docs/commands.md is stale: run scripts/render-commands")
        let manual = try ProcessRunner.run("python3", [Self.root.appendingPathComponent("scripts/commands_markdown.py").path, "--man"],
                                           input: Data(dump.stdout.utf8))
        #expect(manual.stdout == (try String(contentsOf: Self.root.appendingPathComponent("docs/iotca.1"), encoding: .utf8)),
                "docs/iotca.1 is stale: run scripts/render-commands")
        for shell in ["bash", "zsh", "fish"] {
            let script = try ProcessRunner.run(ProcessRunner.iotcaExecutable, ["--generate-completion-script", shell])
            let file = Self.root.appendingPathComponent("docs/completions/iotca.\(shell)")
            #expect(script.stdout == (try String(contentsOf: file, encoding: .utf8)), "docs/completions/iotca.\(shell) is stale: run scripts/render-commands")
        }
    }

    /// A front page: what it is, the two commands, a tour, where the guides are.
    @Test func theReadmeFitsAScreenfulOrTwo() throws {
        let readme = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
        let lines = readme.split(separator: "\n", omittingEmptySubsequences: false).count
        #expect(lines <= 300, "README.md has \(lines) lines")
        #expect(readme.contains("./scripts/demo") && readme.contains("swift test"))
        #expect(readme.range(of: #"issue \d+"#, options: .regularExpression) == nil, "no issue numbers on the front page")
    }

    /// The guides tell what is, not how it came to be: no tracker history.
    @Test func noGuideCarriesIssueNumbers() throws {
        for file in Self.documents {
            let text = try String(contentsOf: file, encoding: .utf8)
            #expect(text.range(of: #"[Ii]ssue #?\d+\b"#, options: .regularExpression) == nil, "\(file.lastPathComponent) names an issue number")
        }
    }
}
