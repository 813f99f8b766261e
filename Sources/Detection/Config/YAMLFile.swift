import Foundation
import Yams

/// A YAML config file's plain values (dictionaries with string keys, arrays, scalars), read as
/// PyYAML's safe_load reads them, with the checks a file from outside needs first: few aliases
/// (a "billion laughs" expands without bound), bounded nesting (the composer recurses, so
/// 100000 nested lists would overflow the stack), and mapping keys that are names (Yams'
/// own constructor traps on a key that is a list or a mapping). A key given twice keeps the last
/// value, as in Detectron2, with a warning naming it.
enum YAMLFile {
    static let maxAliases = 64
    static let maxDepth = 200

    static func load(_ text: String, source: String) throws -> Any? {
        let aliases = aliasCount(text)
        guard aliases <= maxAliases else {
            throw ConfigError("\(source): \(aliases) YAML aliases (*name); a config needs few or none, and this many can expand without bound")
        }
        if let depth = nestingBeyondLimit(text) {
            throw ConfigError("\(source): YAML nested \(depth) levels deep; a config needs a handful, and Lunette reads up to \(maxDepth)")
        }
        let node: Node?
        do { node = try Yams.compose(yaml: text) } catch { throw ConfigError("\(source): not valid YAML: \(error)") }
        guard let node else { return nil }
        return try construct(node, at: "", source: source)
    }

    static func construct(_ node: Node, at path: String, source: String) throws -> Any {
        switch node {
        case .scalar:
            return Constructor.default.any(from: node)
        case .sequence(let items):
            return try items.enumerated().map { try construct($0.element, at: "\(path)[\($0.offset)]", source: source) }
        case .mapping(let pairs):
            var out: [String: Any] = [:]
            var inherited: [String: Any] = [:]
            for (k, v) in pairs {
                let where_ = path.isEmpty ? "the top level" : path
                if case .scalar(let s) = k, s.string == "<<", s.style == .plain {
                    // `<<: *base` (or a list of them): keys not given here come from there.
                    let sources: [Node] = v.sequence.map { Array($0) } ?? [v]
                    for s in sources {
                        guard case .mapping = s, let d = try construct(s, at: path, source: source) as? [String: Any] else {
                            throw ConfigError("\(source): a '<<' merge at \(where_) needs a mapping")
                        }
                        inherited.merge(d) { first, _ in first }
                    }
                    continue
                }
                guard case .scalar(let scalar) = k else {
                    throw ConfigError("\(source): a key at \(where_) is a \(k.mapping != nil ? "mapping" : "list"), not a name")
                }
                let key = scalar.string
                let full = path.isEmpty ? key : "\(path).\(key)"
                if out[key] != nil {
                    DetectionLog.shared.warn("merge_from_file", "\(source): \(full) is given twice; the last value is used (as in Detectron2)")
                }
                out[key] = try construct(v, at: full, source: source)
            }
            for (k, v) in inherited where out[k] == nil { out[k] = v }
            return out
        }
    }

    /// How many aliases (`*name` after a line start, a space or one of `[,{:-`) a text has: a
    /// byte scan, so checking a config costs microseconds.
    static func aliasCount(_ text: String) -> Int {
        var count = 0
        var previous = UInt8(ascii: "\n")
        var afterStar = false
        for c in text.utf8 {
            if afterStar {
                if isNameByte(c) { count += 1 }
                afterStar = false
            }
            if c == UInt8(ascii: "*") && " \t\r\n[,{:-".utf8.contains(previous) { afterStar = true }
            previous = c
        }
        return count
    }

    static func isNameByte(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F || c == 0x2E || c == 0x2D
    }

    /// The nesting depth when it exceeds `maxDepth`, or nil: flow brackets (`[`, `{`) outside
    /// quotes and comments, plus a line's block structure (indentation and `- `, `? ` and `: `
    /// indicators each open a level at most). An overestimate, never an under-count.
    static func nestingBeyondLimit(_ text: String) -> Int? {
        var flow = 0, deepest = 0
        var quote: UInt8? = nil
        var lineStart = true, block = 0
        var previous = UInt8(ascii: "\n")
        for c in text.utf8 {
            if c == 0x0A {
                lineStart = true
                block = 0
                if quote == UInt8(ascii: "#") { quote = nil }
                previous = c
                continue
            }
            if lineStart {
                if c == 0x20 || c == 0x09 || c == UInt8(ascii: "-") || c == UInt8(ascii: "?") || c == UInt8(ascii: ":") {
                    block += 1
                    if flow + block > deepest { deepest = flow + block }
                    if deepest > maxDepth { return deepest }
                    previous = c
                    continue
                }
                lineStart = false
            }
            if let q = quote {
                if c == q && q != UInt8(ascii: "#") { quote = nil }
            } else if c == UInt8(ascii: "\"") || c == UInt8(ascii: "'") {
                quote = c
            } else if c == UInt8(ascii: "#") && (previous == 0x20 || previous == 0x09) {
                quote = c
            } else if c == UInt8(ascii: "[") || c == UInt8(ascii: "{") {
                flow += 1
                if flow + block > deepest { deepest = flow + block }
                if deepest > maxDepth { return deepest }
            } else if c == UInt8(ascii: "]") || c == UInt8(ascii: "}") {
                flow = max(0, flow - 1)
            }
            previous = c
        }
        return nil
    }
}
