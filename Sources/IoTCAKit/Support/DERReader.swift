/// Walks DER elements in a byte array without building a tree: enough to find one field of a
/// certificate or key (the SPKI to pin, the key bits to hash) on a hot path.
struct DERReader {
    struct Element {
        let tag: UInt8
        /// Where the tag is.
        let start: Int
        /// Where the contents begin.
        let contents: Int
        /// One past the last content byte.
        let end: Int
    }

    let bytes: [UInt8]

    /// The element at `offset`, which must end by `limit`; nil when the bytes are not DER.
    func element(at offset: Int, limit: Int) -> Element? {
        guard offset >= 0, offset + 2 <= limit, limit <= bytes.count else { return nil }
        let first = bytes[offset + 1]
        var length = Int(first), contents = offset + 2
        if first & 0x80 != 0 {
            let count = Int(first & 0x7F)
            guard (1...4).contains(count), contents + count <= limit else { return nil }
            length = bytes[contents..<contents + count].reduce(0) { $0 << 8 | Int($1) }
            contents += count
        }
        guard contents + length <= limit else { return nil }
        return Element(tag: bytes[offset], start: offset, contents: contents, end: contents + length)
    }

    /// The first element inside `parent`.
    func firstChild(of parent: Element) -> Element? { element(at: parent.contents, limit: parent.end) }

    /// The element after `sibling` inside `parent`.
    func next(after sibling: Element, in parent: Element) -> Element? { element(at: sibling.end, limit: parent.end) }

    /// The whole element, tag and length included.
    func slice(_ element: Element) -> ArraySlice<UInt8> { bytes[element.start..<element.end] }
}
