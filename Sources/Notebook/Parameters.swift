import Foundation
import LuaHost
import Support
import Yams

/// Parameters as papermill gives them: the cell tagged `parameters` holds the defaults, and the
/// values passed in go into a cell tagged `injected-parameters` right after it (first, when
/// there is none), written as Lua assignments.
public enum Parameters {
    public static let tag = "parameters"
    public static let injectedTag = "injected-parameters"

    /// A `-p NAME VALUE` value typed as papermill types it: True/False (and Lua's true/false),
    /// None (and nil), integers, floats, else a string. A value that opens with `[` or `{` is a
    /// YAML list or mapping and must parse as one.
    public static func typed(_ raw: String, name: String) throws -> JSONValue {
        switch raw {
        case "True", "true": return .bool(true)
        case "False", "false": return .bool(false)
        case "None", "nil": return .null
        default: break
        }
        let trimmed = raw.trimmingCharacters(in: .whitespaces)
        if trimmed.first == "[" || trimmed.first == "{" {
            let parsed: Any?
            do { parsed = try Yams.load(yaml: trimmed) } catch {
                throw NotebookError("-p \(name): \(raw) does not parse as a \(trimmed.first == "[" ? "list" : "table") (\(yamlReason(error))); give -r \(name) VALUE for the text as it is")
            }
            return try value(parsed, at: "-p \(name)")
        }
        if isInteger(trimmed) {
            guard let i = Int64(trimmed) else { throw NotebookError("-p \(name): \(raw) is an integer too large for Lua (at most \(Int64.max))") }
            return .int(i)
        }
        if isFloat(trimmed), let d = Double(trimmed) {
            guard d.isFinite else { throw NotebookError("-p \(name): \(raw) is not a finite number") }
            return .double(d)
        }
        return .string(raw)
    }

    static func isInteger(_ s: String) -> Bool {
        var u = Substring(s)
        if u.first == "-" || u.first == "+" { u = u.dropFirst() }
        return !u.isEmpty && u.allSatisfy { $0.isASCII && $0.isNumber }
    }

    static func isFloat(_ s: String) -> Bool {
        // Python's float(): digits with a point and/or an exponent (not "inf"/"nan" words, which stay text).
        let allowed = Set("0123456789+-.eE")
        return !s.isEmpty && s.allSatisfy { allowed.contains($0) } && s.contains(where: \.isNumber)
    }

    static func yamlReason(_ error: Error) -> String {
        let text = "\(error)"
        return text.split(separator: "\n").first.map(String.init) ?? text
    }

    /// A YAML value (from Yams) as JSON; what Lua cannot hold is an error naming `at`.
    static func value(_ v: Any?, at: String) throws -> JSONValue {
        switch v {
        case nil, is NSNull: return .null
        case let b as Bool: return .bool(b)
        case let i as Int: return .int(Int64(i))
        case let d as Double:
            guard d.isFinite else { throw NotebookError("\(at): \(d) is not a finite number") }
            return .double(d)
        case let s as String: return .string(s)
        case let a as [Any?]: return .array(try a.enumerated().map { try value($1, at: "\(at)[\($0 + 1)]") })
        case let m as [AnyHashable: Any?]:
            var pairs: [(String, JSONValue)] = []
            for (k, x) in m {
                guard let key = k.base as? String else { throw NotebookError("\(at): the key \(k.base) is not text") }
                pairs.append((key, try value(x, at: "\(at).\(key)")))
            }
            return .object(pairs.sorted { $0.0 < $1.0 })
        default:
            throw NotebookError("\(at): a \(type(of: v!)) value cannot be a parameter")
        }
    }

    /// A parameters file: a YAML (or JSON) mapping of names to values, in the file's order.
    public static func file(_ path: String) throws -> [(String, JSONValue)] {
        let data: Data
        do { data = try InputFile.data(path) } catch let e as FileError { throw NotebookError(e.message) }
        let node: Node?
        do { node = try Yams.compose(yaml: String(decoding: data, as: UTF8.self)) } catch {
            throw NotebookError("\(path): not valid YAML (\(yamlReason(error)))")
        }
        guard let mapping = node?.mapping else {
            throw NotebookError("\(path): a parameters file is a mapping of names to values (name: value), not \(node == nil ? "empty" : "a \(node!.scalar != nil ? "single value" : "list")")")
        }
        var pairs: [(String, JSONValue)] = []
        for (k, v) in mapping {
            guard let key = k.string else { throw NotebookError("\(path): a key that is not text") }
            try checkName(key, from: path)
            pairs.append((key, try value(Constructor.default.any(from: v), at: "\(path): \(key)")))
        }
        return pairs
    }

    public static func checkName(_ name: String, from: String) throws {
        let first = name.unicodeScalars.first
        let ok = first.map { $0 == "_" || ($0.isASCII && CharacterSet.letters.contains($0)) } ?? false
            && name.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && CharacterSet.alphanumerics.contains($0)) }
        if !ok || luaKeywords.contains(name) {
            throw NotebookError("\(from): \"\(name)\" cannot be a parameter: a parameter is a Lua name (letters, digits, _; not starting with a digit; not a keyword)")
        }
    }


    /// The names a parameters cell assigns at its top level (`name = ...`, `local name = ...`,
    /// `a, b = ...`), in order.
    public static func names(in source: String) -> [String] {
        var names: [String] = []
        for line in source.split(separator: "\n") {
            var s = Substring(line)
            guard let f = s.first, !f.isWhitespace else { continue }     // top-level lines only
            if s.hasPrefix("local ") { s = s.dropFirst(6) }
            guard let eq = s.firstIndex(of: "="), s[s.index(after: eq)...].first != "=" else { continue }
            let targets = s[..<eq].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            for t in targets {
                let name = t.split(separator: "<").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? t
                if (try? checkName(name, from: "")) != nil, !names.contains(name) { names.append(name) }
            }
        }
        return names
    }

    /// A value as a Lua literal.
    public static func lua(_ v: JSONValue) -> String {
        switch v {
        case .null: return "nil"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d):
            if d == d.rounded(), abs(d) < 1e15 { return String(format: "%.1f", d) }
            return "\(d)"
        case .string(let s): return quote(s)
        case .array(let a): return "{" + a.map(lua).joined(separator: ", ") + "}"
        case .object(let pairs):
            return "{" + pairs.map { k, x in
                ((try? checkName(k, from: "")) != nil ? k : "[\(quote(k))]") + " = " + lua(x)
            }.joined(separator: ", ") + "}"
        }
    }

    public static func quote(_ s: String) -> String { luaQuoted(s) }

    /// Puts the values into the notebook as papermill does; returns warnings for names the
    /// parameters cell does not define (they are injected all the same).
    @discardableResult
    public static func inject(_ values: [(String, JSONValue)], into nb: inout Notebook) -> [String] {
        var warnings: [String] = []
        nb.cells.removeAll { $0.tags.contains(injectedTag) }
        let parametersCell = nb.firstCell(tagged: tag)
        if let p = parametersCell {
            let known = Set(names(in: nb.cells[p].source))
            for (name, _) in values where !known.contains(name) {
                warnings.append("passed unknown parameter: \(name) (the parameters cell defines \(known.isEmpty ? "none" : known.sorted().joined(separator: ", ")))")
            }
        } else if !values.isEmpty {
            warnings.append("the notebook has no cell tagged \"parameters\"; the parameters go into a first cell of their own")
        }
        guard !values.isEmpty else { return warnings }
        let source = (["-- Parameters"] + values.map { "\($0.0) = \(lua($0.1))" }).joined(separator: "\n")
        var cell = Cell(kind: .code, source: source, metadata: [("tags", .array([.string(injectedTag)]))])
        cell.id = "injected-parameters"
        nb.cells.insert(cell, at: parametersCell.map { $0 + 1 } ?? 0)
        nb.assignIDs()
        return warnings
    }
}
