import Foundation
import Support
import Yams

/// A config value: yacs' leaf types (bool, int, float, str, list/tuple, None) or a nested node.
public enum CfgValue: Equatable, CustomStringConvertible {
    case none
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    case list([CfgValue])
    case node(CfgNode)

    public static func == (a: CfgValue, b: CfgValue) -> Bool {
        switch (a, b) {
        case (.none, .none): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.int(let x), .int(let y)): return x == y
        case (.float(let x), .float(let y)): return x == y
        case (.string(let x), .string(let y)): return x == y
        case (.list(let x), .list(let y)): return x == y
        case (.node(let x), .node(let y)): return x.entries == y.entries
        default: return false
        }
    }

    /// yacs' type name, for messages.
    public var typeName: String {
        switch self {
        case .none: return "NoneType"
        case .bool: return "bool"
        case .int: return "int"
        case .float: return "float"
        case .string: return "str"
        case .list: return "list"
        case .node: return "CfgNode"
        }
    }

    public var description: String {
        switch self {
        case .none: return "None"
        case .bool(let b): return b ? "True" : "False"
        case .int(let i): return String(i)
        case .float(let d): return d == d.rounded() && abs(d) < 1e16 ? String(format: "%.1f", d) : "\(d)"
        case .string(let s): return "'\(s)'"
        case .list(let l): return "[" + l.map(\.description).joined(separator: ", ") + "]"
        case .node: return "CfgNode(...)"
        }
    }

    /// Builds a value from what Yams parsed.
    static func fromYAML(_ v: Any?, key: String) throws -> CfgValue {
        switch v {
        case nil, is NSNull: return .none
        case let b as Bool: return .bool(b)
        case let i as Int: return .int(i)
        case let d as Double: return .float(d)
        case let s as String: return .string(s)
        case let a as [Any]: return .list(try a.map { try fromYAML($0, key: key) })
        case let m as [String: Any]:
            let n = CfgNode()
            n.path = key
            for (k, x) in m { n.entries[k] = try fromYAML(x, key: key.isEmpty ? k : "\(key).\(k)") }
            return .node(n)
        case let m as [AnyHashable: Any]:
            let n = CfgNode()
            n.path = key
            for (k, x) in m { n.entries["\(k)"] = try fromYAML(x, key: key.isEmpty ? "\(k)" : "\(key).\(k)") }
            return .node(n)
        default:
            throw ConfigError("config key \(key): unsupported YAML value \(String(describing: v))")
        }
    }
}

public struct ConfigError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Detectron2's CfgNode: a tree of keys with the defaults' types, merged from YAML files (with
/// _BASE_), from lists of KEY VALUE pairs and by assignment, frozen on request, dumped as YAML.
public final class CfgNode {
    var entries: [String: CfgValue] = [:]
    public private(set) var isFrozen = false
    /// The dotted path of this node from the root ("" for the root), for messages.
    public internal(set) var path = ""

    public init() {}

    public func qualified(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// get_cfg(): a fresh copy of Detectron2's defaults.
    public static func defaults() -> CfgNode {
        // Parsed once; each call hands out a deep copy.
        CfgNode.defaultTree.clone()
    }

    nonisolated(unsafe) static let defaultTree: CfgNode = {
        guard let loaded = try? Yams.load(yaml: detectron2DefaultsYAML), case .node(let n)? = try? CfgValue.fromYAML(loaded, key: "") else {
            fatalError("the built-in Detectron2 defaults do not parse")
        }
        return n
    }()

    public var keys: [String] { entries.keys.sorted() }

    public subscript(key: String) -> CfgValue? { entries[key] }

    /// A deep copy (unfrozen).
    public func clone() -> CfgNode {
        let n = CfgNode()
        n.path = path
        for (k, v) in entries {
            if case .node(let child) = v { n.entries[k] = .node(child.clone()) } else { n.entries[k] = v }
        }
        return n
    }

    public func freeze(_ on: Bool = true) {
        isFrozen = on
        for case .node(let child) in entries.values { child.freeze(on) }
    }

    public func defrost() { freeze(false) }

    /// Every leaf key as a dotted path.
    public var allKeys: [String] {
        keys.flatMap { k -> [String] in
            if case .node(let n)? = entries[k] { return n.allKeys.map { "\(k).\($0)" } }
            return [k]
        }
    }

    /// The value at a dotted path.
    public func value(at path: String) throws -> CfgValue {
        var node = self
        let parts = path.split(separator: ".").map(String.init)
        for (i, p) in parts.enumerated() {
            guard let v = node.entries[p] else { throw ConfigError("Non-existent config key: \(path)\(suggestion(for: path))") }
            if i == parts.count - 1 { return v }
            guard case .node(let child) = v else { throw ConfigError("Non-existent config key: \(path) (\(parts[0...i].joined(separator: ".")) is not a node)") }
            node = child
        }
        return .node(self)
    }

    // Typed reads: what the model and the predictor read their settings through. A value of
    // another type is an error naming the key.

    public func int(_ key: String) throws -> Int {
        guard case .int(let v) = try value(at: key) else { throw ConfigError("\(key) must be an integer") }
        return v
    }

    public func double(_ key: String) throws -> Double { try Self.number(try value(at: key), key, "must be a number") }

    public func bool(_ key: String) throws -> Bool {
        guard case .bool(let b) = try value(at: key) else { throw ConfigError("\(key) must be True or False") }
        return b
    }

    public func string(_ key: String) throws -> String {
        guard case .string(let s) = try value(at: key) else { throw ConfigError("\(key) must be a string") }
        return s
    }

    public func strings(_ key: String) throws -> [String] {
        try Self.list(try value(at: key), key).map { guard case .string(let s) = $0 else { throw ConfigError("\(key) must list names") }; return s }
    }

    public func doubles(_ key: String) throws -> [Double] {
        try Self.list(try value(at: key), key).map { try Self.number($0, key, "must list numbers") }
    }

    public func ints(_ key: String) throws -> [Int] {
        try Self.list(try value(at: key), key).map { guard case .int(let i) = $0 else { throw ConfigError("\(key) must list integers") }; return i }
    }

    /// A list of lists of numbers (ANCHOR_GENERATOR.SIZES, ASPECT_RATIOS).
    public func doubleLists(_ key: String) throws -> [[Double]] {
        try Self.list(try value(at: key), key).map { try Self.list($0, key).map { try Self.number($0, key, "must list lists of numbers") } }
    }

    private static func list(_ v: CfgValue, _ key: String) throws -> [CfgValue] {
        guard case .list(let l) = v else { throw ConfigError("\(key) must be a list") }
        return l
    }

    private static func number(_ v: CfgValue, _ key: String, _ problem: String) throws -> Double {
        switch v {
        case .float(let d): return d
        case .int(let i): return Double(i)
        default: throw ConfigError("\(key) \(problem)")
        }
    }

    /// Sets a leaf under Detectron2's type rules (see `checked`); the key must exist.
    public func set(_ relative: String, _ new: CfgValue, coerceIntToFloat: Bool = false) throws {
        var node = self
        let path = qualified(relative)
        let parts = relative.split(separator: ".").map(String.init)
        for (i, p) in parts.enumerated() {
            guard let old = node.entries[p] else { throw ConfigError("Non-existent config key: \(path)\(suggestion(for: path))") }
            if i == parts.count - 1 {
                if node.isFrozen && !p.hasPrefix("COMPUTED_") {
                    throw ConfigError("Attempted to set \(path) to \(new), but CfgNode is immutable (call cfg:defrost() first)")
                }
                node.entries[p] = try CfgNode.checked(new, against: old, key: path, coerceIntToFloat: coerceIntToFloat)
                return
            }
            guard case .node(let child) = old else { throw ConfigError("Non-existent config key: \(path) (\(parts[0...i].joined(separator: ".")) is not a node)") }
            node = child
        }
    }

    /// yacs' rules: the type must match the default's; lists and tuples are one kind; a None
    /// default takes anything and anything may be set to None; int is not float (a Lua caller
    /// may allow that one, since Lua writes 1 for 1.0 easily).
    static func checked(_ new: CfgValue, against old: CfgValue, key: String, coerceIntToFloat: Bool) throws -> CfgValue {
        let value = try typeChecked(new, against: old, key: key, coerceIntToFloat: coerceIntToFloat)
        if case .node = value { return value }
        // Values too: a list of the wrong elements or a value out of range fails here, naming the key.
        if let problem = ConfigSupport.problem(key, value, default: old) { throw ConfigError("\(key) = \(value): \(problem)") }
        return value
    }

    /// A value for a message: long ones (a 200000-character string) shortened, saying so.
    static func brief(_ v: CfgValue) -> String {
        let text = "\(v)"
        return text.count <= 200 ? text : "\(text.prefix(120))... (\(text.count) characters)"
    }

    static func typeChecked(_ new: CfgValue, against old: CfgValue, key: String, coerceIntToFloat: Bool) throws -> CfgValue {
        switch (old, new) {
        case (.node, .none): throw ConfigError("\(key) is a config node; it cannot be set to None")
        case (.none, _), (_, .none): return new
        case (.bool, .bool), (.int, .int), (.float, .float), (.string, .string), (.list, .list): return new
        case (.float, .int(let i)) where coerceIntToFloat: return .float(Double(i))
        case (.node(let o), .node(let n)):
            for (k, v) in n.entries {
                guard let ov = o.entries[k] else { throw ConfigError("Non-existent config key: \(key).\(k)") }
                o.entries[k] = try checked(v, against: ov, key: "\(key).\(k)", coerceIntToFloat: coerceIntToFloat)
            }
            return .node(o)
        default:
            throw ConfigError("Type mismatch (\(old.typeName) vs. \(new.typeName)) with values (\(brief(old)) vs. \(brief(new))) for config key: \(key)")
        }
    }

    /// "did you mean ...?" with the closest existing key.
    public func suggestion(for path: String) -> String {
        Suggestion.hint(for: path, among: allKeys.map(qualified))
    }

    // MARK: merging

    /// merge_from_file with fvcore's _BASE_ rule: a base file (relative to the including file)
    /// is loaded first, recursively; the child's dicts merge into it, other values replace.
    public func mergeFromFile(_ path: String) throws {
        let tree = try CfgNode.loadYAMLWithBase(path, seen: [])
        try merge(tree, prefix: "", source: path, root: self)
    }

    /// merge_from_other_cfg from YAML text (a dump() read back): `source` names it in errors.
    public func mergeFromYAML(_ text: String, source: String) throws {
        let parsed = try YAMLFile.load(text, source: source)
        guard let dict = parsed as? [String: Any] else {
            if parsed == nil { return }
            throw ConfigError("\(source): a config is a YAML mapping")
        }
        try merge(dict, prefix: "", source: source, root: self)
    }

    static func loadYAMLWithBase(_ path: String, seen: [String]) throws -> [String: Any] {
        guard !seen.contains(path) else { throw ConfigError("\(path): _BASE_ cycle (\((seen + [path]).joined(separator: " -> ")))") }
        let text: String
        do { text = try InputFile.text(path, limit: 10_000_000) } catch let e as FileError { throw ConfigError("config file: \(e.message)") }
        let parsed = try YAMLFile.load(text, source: path)
        guard var dict = parsed as? [String: Any] else {
            if parsed == nil { return [:] }
            throw ConfigError("\(path): a config file is a YAML mapping")
        }
        guard let base = dict.removeValue(forKey: "_BASE_") else { return dict }
        guard var basePath = base as? String else { throw ConfigError("\(path): _BASE_ must be one file name") }
        if basePath.hasPrefix("~") { basePath = (basePath as NSString).expandingTildeInPath }
        if !basePath.hasPrefix("/") { basePath = (PathName.parent(path) as NSString).appendingPathComponent(basePath) }
        var merged = try loadYAMLWithBase(basePath, seen: seen + [path])
        try mergeDicts(dict, into: &merged, path: path, prefix: "")
        return merged
    }

    static func mergeDicts(_ child: [String: Any], into base: inout [String: Any], path: String, prefix: String) throws {
        for (k, v) in child {
            if let vd = v as? [String: Any] {
                if let bd = base[k] as? [String: Any] {
                    var m = bd
                    try mergeDicts(vd, into: &m, path: path, prefix: prefix + k + ".")
                    base[k] = m
                } else if base[k] == nil || base[k] is NSNull {
                    base[k] = vd
                } else {
                    throw ConfigError("\(path): Cannot inherit key '\(prefix)\(k)' from base!")
                }
            } else {
                base[k] = v
            }
        }
    }

    func merge(_ dict: [String: Any], prefix: String, source: String, root: CfgNode) throws {
        for k in dict.keys.sorted() {
            let key = prefix.isEmpty ? k : "\(prefix).\(k)"
            let v = dict[k]!
            if let sub = v as? [String: Any] {
                guard let existing = entries[k] else {
                    throw ConfigError("\(source): Non-existent config key: \(key)\(root.suggestion(for: key))")
                }
                guard case .node(let child) = existing else {
                    // A mapping where the config has a value (None defaults take anything).
                    if case .none = existing {
                        entries[k] = try CfgNode.checked(try CfgValue.fromYAML(v, key: key), against: existing, key: key, coerceIntToFloat: false)
                        continue
                    }
                    throw ConfigError("\(source): \(key) is a \(existing.typeName) (now \(existing)), not a mapping of keys")
                }
                try child.merge(sub, prefix: key, source: source, root: root)
                continue
            }
            guard let old = entries[k] else { throw ConfigError("\(source): Non-existent config key: \(key)\(root.suggestion(for: key))") }
            var new = try CfgValue.fromYAML(v, key: key)
            // yacs reads string values as Python literals: "(640, 800)" is a tuple.
            if case .string(let text) = new { new = CfgNode.literal(text) }
            do {
                if isFrozen { throw ConfigError("Attempted to set \(key), but CfgNode is immutable") }
                entries[k] = try CfgNode.checked(new, against: old, key: key, coerceIntToFloat: false)
            } catch let e as ConfigError {
                throw ConfigError("\(source): \(e.message)")
            }
        }
    }


    /// merge_from_list(["KEY.PATH", value, ...]): values are strings read as Python literals.
    public func mergeFromList(_ items: [String]) throws {
        guard items.count % 2 == 0 else { throw ConfigError("merge_from_list needs KEY VALUE pairs, got \(items.count) items") }
        for i in stride(from: 0, to: items.count, by: 2) {
            let key = items[i]
            guard key != "_BASE_" else { throw ConfigError("_BASE_ cannot be set from a list") }
            try set(key, CfgNode.literal(items[i + 1]))
        }
    }

    /// Python's literal_eval for what configs hold: numbers, True/False/None, quoted strings,
    /// lists and tuples; anything else stays a string.
    public static func literal(_ text: String) -> CfgValue {
        var p = LiteralParser(Array(text.utf8))
        if let v = p.parse(), p.atEnd { return v }
        return .string(text)
    }

    // MARK: dumping

    /// YAML with sorted keys, as cfg.dump().
    public func dump() -> String {
        var out = ""
        dump(into: &out, indent: 0)
        return out
    }

    func dump(into out: inout String, indent: Int) {
        let pad = String(repeating: " ", count: indent)
        for k in keys {
            let v = entries[k]!
            switch v {
            case .node(let n):
                if n.entries.isEmpty { out += "\(pad)\(k): {}\n" } else {
                    out += "\(pad)\(k):\n"
                    n.dump(into: &out, indent: indent + 2)
                }
            case .list(let l) where !l.isEmpty:
                out += "\(pad)\(k):\n"
                CfgNode.dumpList(l, into: &out, indent: indent)
            default:
                out += "\(pad)\(k): \(CfgNode.scalar(v))\n"
            }
        }
    }

    static func dumpList(_ l: [CfgValue], into out: inout String, indent: Int) {
        let pad = String(repeating: " ", count: indent)
        for item in l {
            if case .list(let inner) = item, !inner.isEmpty {
                var nested = ""
                dumpList(inner, into: &nested, indent: indent + 2)
                // "- - a" style for nested lists, as PyYAML writes them.
                let lines = nested.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty }
                for (i, line) in lines.enumerated() {
                    let trimmed = String(line.dropFirst(indent + 2))
                    out += (i == 0 ? "\(pad)- " : "\(pad)  ") + trimmed + "\n"
                }
            } else {
                out += "\(pad)- \(scalar(item))\n"
            }
        }
    }

    static func scalar(_ v: CfgValue) -> String {
        switch v {
        case .none: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .float(let d):
            if d == d.rounded() && abs(d) < 1e16 { return String(format: "%.1f", d) }
            return "\(d)"
        case .string(let s):
            if s.isEmpty { return "''" }
            let plain = s.allSatisfy { $0.isLetter || $0.isNumber || "_-./:".contains($0) } && Double(s) == nil
                && !["true", "false", "null", "yes", "no", "on", "off", "~"].contains(s.lowercased())
            return plain ? s : "'" + s.replacingOccurrences(of: "'", with: "''") + "'"
        case .list(let l): return l.isEmpty ? "[]" : "[" + l.map(scalar).joined(separator: ", ") + "]"
        case .node: return "{}"
        }
    }
}

struct LiteralParser {
    let b: [UInt8]
    var i = 0
    var depth = 0
    /// Lists nest this deep at most (a value is no literal beyond; the recursion stays shallow).
    static let maxDepth = 64
    init(_ bytes: [UInt8]) { b = bytes }
    var atEnd: Bool { var j = i; while j < b.count, b[j] == 0x20 { j += 1 }; return j == b.count }

    mutating func space() { while i < b.count, b[i] == 0x20 || b[i] == 0x09 { i += 1 } }

    mutating func parse() -> CfgValue? {
        space()
        guard i < b.count else { return nil }
        let c = b[i]
        if c == UInt8(ascii: "[") || c == UInt8(ascii: "(") {
            let close = c == UInt8(ascii: "[") ? UInt8(ascii: "]") : UInt8(ascii: ")")
            guard depth < LiteralParser.maxDepth else { return nil }
            depth += 1
            defer { depth -= 1 }
            i += 1
            var items: [CfgValue] = []
            while true {
                space()
                if i < b.count, b[i] == close { i += 1; return .list(items) }
                guard let v = parse() else { return nil }
                items.append(v)
                space()
                if i < b.count, b[i] == UInt8(ascii: ",") { i += 1; continue }
                if i < b.count, b[i] == close { i += 1; return .list(items) }
                return nil
            }
        }
        if c == UInt8(ascii: "'") || c == UInt8(ascii: "\"") {
            i += 1
            let start = i
            while i < b.count, b[i] != c { i += 1 }
            guard i < b.count else { return nil }
            let s = String(decoding: b[start..<i], as: UTF8.self)
            i += 1
            return .string(s)
        }
        let start = i
        while i < b.count, !",)] ".utf8.contains(b[i]) { i += 1 }
        let word = String(decoding: b[start..<i], as: UTF8.self)
        switch word {
        case "True": return .bool(true)
        case "False": return .bool(false)
        case "None": return .none
        default:
            if let n = Int(word) { return .int(n) }
            if let d = Double(word), word.contains(where: { ".eE".contains($0) }) || word.lowercased() == "inf" { return .float(d) }
            return nil
        }
    }
}
