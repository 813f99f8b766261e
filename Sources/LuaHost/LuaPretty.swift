import CLua
import Foundation

/// Lua 5.4's reserved words (they are not names: not keys written bare, not completions).
public let luaKeywords: Set<String> = ["and", "break", "do", "else", "elseif", "end", "false", "for", "function", "goto", "if",
                                       "in", "local", "nil", "not", "or", "repeat", "return", "then", "true", "until", "while"]

/// A string as a Lua literal that reads back as the same bytes: quotes, backslashes and control
/// characters escaped (three-digit decimal escapes, so a digit after one is not taken into it).
/// Past `limit` characters it is cut, with the full length in bytes said after it.
public func luaQuoted(_ s: String, limit: Int = .max) -> String {
    var out = "\""
    var length = 0
    for scalar in s.unicodeScalars {
        if length >= limit { return out + "\"... (\(s.utf8.count) bytes)" }
        length += 1
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if scalar.value < 0x20 || scalar.value == 0x7F {
                out += "\\" + String(format: "%03d", scalar.value)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    return out + "\""
}

/// How the REPL shows values: tables with depth, width and item limits, cycles marked, keys
/// sorted; userdata and tables with __tostring through it. Reads tables raw, so printing never
/// runs user code except __tostring, which runs protected.
public struct PrettyPrinter {
    public var maxDepth = 4
    public var maxItems = 40
    public var width = 80
    public var maxStringLength = 2000
    public var color = false

    public init(color: Bool = false, width: Int = 80) {
        self.color = color
        self.width = width
    }

    private struct Piece {
        var text: String
        var visible: Int
        init(_ text: String, visible: Int? = nil) {
            self.text = text
            self.visible = visible ?? text.count
        }
    }

    private func paint(_ s: String, _ code: String) -> Piece {
        color ? Piece("\u{1B}[\(code)m\(s)\u{1B}[0m", visible: s.count) : Piece(s)
    }

    /// Renders the value at idx of L's stack.
    public func render(_ state: LuaState, at idx: Int32) -> String {
        let L = state.L
        var path: [UnsafeRawPointer] = []
        return piece(state, L, lua_absindex(L, idx), indent: 0, depth: 0, path: &path).text
    }

    private func piece(_ state: LuaState, _ L: OpaquePointer, _ idx: Int32, indent: Int, depth: Int,
                       path: inout [UnsafeRawPointer]) -> Piece {
        switch lua_type(L, idx) {
        case LUA_TNIL, LUA_TNONE: return paint("nil", "35")
        case LUA_TBOOLEAN: return paint(lua_toboolean(L, idx) != 0 ? "true" : "false", "35")
        case LUA_TNUMBER: return paint(plainToString(L, idx), "36")
        case LUA_TSTRING: return paint(quote(stringAt(L, idx) ?? ""), "32")
        case LUA_TFUNCTION:
            if let spec = state.functionSpec(at: idx) { return paint("function: \(spec.name)", "2") }
            return paint(plainToString(L, idx), "2")
        case LUA_TTABLE:
            if hasMetafield(L, idx, "__tostring") { return Piece(protectedToString(L, idx)) }
            return table(state, L, idx, indent: indent, depth: depth, path: &path)
        default:
            return Piece(protectedToString(L, idx))
        }
    }

    private func table(_ state: LuaState, _ L: OpaquePointer, _ idx: Int32, indent: Int, depth: Int,
                       path: inout [UnsafeRawPointer]) -> Piece {
        let identity = lua_topointer(L, idx)!
        if path.contains(identity) { return paint("<cycle: \(plainToString(L, idx))>", "33") }
        // A table marked as a map shows every key, so {[1] = 0, [2] = 1} does not read as a list.
        let n = state.tableKind(at: idx, in: L) == .map ? 0 : Int64(lua_rawlen(L, idx))
        // Collect keys: the sequence 1..n first, then the rest sorted.
        var others: [(sortKey: LuaKeyOrder, label: String, keyRef: Int32)] = []
        var count = Int(n)
        lua_pushnil(L)
        while lua_next(L, idx) != 0 {
            lh_pop(L, 1)
            let k = lua_gettop(L)
            if lua_type(L, k) == LUA_TNUMBER, lh_isinteger(L, k) != 0 {
                let i = lua_tointegerx(L, k, nil)
                if i >= 1 && i <= n { continue }
            }
            count += 1
            if others.count <= maxItems {
                let order = LuaKeyOrder(L, k)
                lua_pushvalue(L, k)
                others.append((order, keyLabel(L, k), luaL_ref(L, lh_registryindex())))
            }
        }
        defer { for o in others { luaL_unref(L, lh_registryindex(), o.keyRef) } }
        if count == 0 { return Piece("{}") }
        if depth >= maxDepth { return paint("{...} (\(count) item\(count == 1 ? "" : "s"))", "2") }
        others.sort { $0.sortKey < $1.sortKey }

        path.append(identity)
        defer { path.removeLast() }
        var items: [Piece] = []
        var shown = 0
        for i in 1...max(n, 1) where n > 0 {
            if shown >= maxItems { break }
            lua_rawgeti(L, idx, i)
            items.append(piece(state, L, lua_gettop(L), indent: indent + 2, depth: depth + 1, path: &path))
            lh_pop(L, 1)
            shown += 1
        }
        for o in others {
            if shown >= maxItems { break }
            _ = lh_getref(L, o.keyRef)
            lua_rawget(L, idx)
            let v = piece(state, L, lua_gettop(L), indent: indent + 2, depth: depth + 1, path: &path)
            lh_pop(L, 1)
            items.append(Piece(o.label + " = " + v.text, visible: o.label.count + 3 + v.visible))
            shown += 1
        }
        if count > shown { items.append(paint("... (\(count - shown) more)", "2")) }

        let oneLineWidth = items.reduce(4) { $0 + $1.visible + 2 }
        if oneLineWidth + indent <= width && !items.contains(where: { $0.text.contains("\n") }) {
            let text = "{ " + items.map(\.text).joined(separator: ", ") + " }"
            return Piece(text, visible: oneLineWidth)
        }
        let pad = String(repeating: " ", count: indent + 2)
        let text = "{\n" + items.map { pad + $0.text }.joined(separator: ",\n") + "\n" + String(repeating: " ", count: indent) + "}"
        return Piece(text, visible: width + 1)
    }

    private func keyLabel(_ L: OpaquePointer, _ k: Int32) -> String {
        if let s = stringAt(L, k) {
            return isIdentifier(s) ? s : "[\(quote(s))]"
        }
        return "[\(lua_type(L, k) == LUA_TNUMBER ? plainToString(L, k) : protectedToString(L, k))]"
    }

    func quote(_ s: String) -> String { luaQuoted(s, limit: maxStringLength) }

    private func isIdentifier(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic) else { return false }
        return !luaKeywords.contains(s) && s.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) }
    }

    private func hasMetafield(_ L: OpaquePointer, _ idx: Int32, _ name: String) -> Bool {
        guard lua_getmetatable(L, idx) != 0 else { return false }
        pushString(L, name)
        let t = lua_rawget(L, -2)
        lh_pop(L, 2)
        return t != LUA_TNIL
    }
}

/// The string Lua's tostring gives, for values whose conversion cannot run user code.
func plainToString(_ L: OpaquePointer, _ idx: Int32) -> String {
    var len = 0
    guard let p = lh_tostring_protected(L, idx, &len) else {
        lh_pop(L, 1)
        return "?"
    }
    let s = String(cString: p)
    lh_pop(L, 1)
    return s
}

/// tostring(v) with __tostring run under protection: the text, or the error __tostring raised.
func toStringResult(_ L: OpaquePointer, _ idx: Int32) -> Result<String, LuaError> {
    var len = 0
    if let p = lh_tostring_protected(L, idx, &len) {
        let s = p.withMemoryRebound(to: UInt8.self, capacity: len) {
            String(decoding: UnsafeBufferPointer(start: $0, count: len), as: UTF8.self)
        }
        lh_pop(L, 1)
        return .success(s)
    }
    let message = stringAt(L, -1) ?? "error in __tostring"
    lh_pop(L, 1)
    return .failure(.message(message))
}

/// tostring(v) for display; a failing __tostring is shown as such.
func protectedToString(_ L: OpaquePointer, _ idx: Int32) -> String {
    switch toStringResult(L, idx) {
    case .success(let s): return s
    case .failure(.message(let m)): return "<__tostring failed: \(m)>"
    case .failure(let e): return "<__tostring failed: \(e)>"
    }
}

/// Sort order for table keys: numbers, then strings, then booleans, then anything else.
struct LuaKeyOrder: Comparable {
    let rank: Int
    let number: Double
    let text: String

    init(_ L: OpaquePointer, _ k: Int32) {
        switch lua_type(L, k) {
        case LUA_TNUMBER: rank = 0; number = lua_tonumberx(L, k, nil); text = ""
        case LUA_TSTRING: rank = 1; number = 0; text = stringAt(L, k) ?? ""
        case LUA_TBOOLEAN: rank = 2; number = lua_toboolean(L, k) != 0 ? 1 : 0; text = ""
        default: rank = 3; number = 0; text = plainToString(L, k)
        }
    }

    static func < (a: LuaKeyOrder, b: LuaKeyOrder) -> Bool {
        if a.rank != b.rank { return a.rank < b.rank }
        if a.number != b.number { return a.number < b.number }
        return a.text < b.text
    }
}

extension LuaState {
    /// What tostring gives for the value at idx; a failing __tostring is an error, as in Lua.
    public func tostring(at idx: Int32) throws -> String { try toStringResult(L, idx).get() }
}
