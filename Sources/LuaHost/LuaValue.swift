import CLua

/// A Lua value copied into Swift. Tables are copied deeply; functions, coroutines and foreign
/// userdata are kept by reference; Swift objects of registered classes come back as themselves.
public enum LuaValue: CustomStringConvertible {
    case `nil`
    case boolean(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case table(LuaTable)
    case object(AnyObject)
    case reference(LuaRef, type: String)

    /// Lua's name for the type, as `type()` gives it.
    public var typeName: String {
        switch self {
        case .nil: return "nil"
        case .boolean: return "boolean"
        case .integer, .number: return "number"
        case .string: return "string"
        case .table: return "table"
        case .object: return "userdata"
        case .reference(_, let type): return type
        }
    }

    public var description: String {
        switch self {
        case .nil: return "nil"
        case .boolean(let b): return String(b)
        case .integer(let i): return String(i)
        case .number(let d): return String(d)
        case .string(let s): return String(reflecting: s)
        case .table(let t): return t.description
        case .object(let o): return "\(type(of: o))"
        case .reference(_, let type): return type
        }
    }
}

/// A table key: the scalar kinds Lua allows and Swift can hash.
public enum LuaKey: Hashable, Comparable, CustomStringConvertible {
    case integer(Int64)
    case string(String)
    case boolean(Bool)
    case number(Double)

    public var description: String {
        switch self {
        case .integer(let i): return "[\(i)]"
        case .string(let s): return s
        case .boolean(let b): return "[\(b)]"
        case .number(let d): return "[\(d)]"
        }
    }

    var value: LuaValue {
        switch self {
        case .integer(let i): return .integer(i)
        case .string(let s): return .string(s)
        case .boolean(let b): return .boolean(b)
        case .number(let d): return .number(d)
        }
    }

    private var rank: Int {
        switch self {
        case .integer, .number: return 0
        case .string: return 1
        case .boolean: return 2
        }
    }

    public static func < (a: LuaKey, b: LuaKey) -> Bool {
        switch (a, b) {
        case (.integer(let x), .integer(let y)): return x < y
        case (.integer(let x), .number(let y)): return Double(x) < y
        case (.number(let x), .integer(let y)): return x < Double(y)
        case (.number(let x), .number(let y)): return x < y
        case (.string(let x), .string(let y)): return x < y
        case (.boolean(let x), .boolean(let y)): return !x && y
        default: return a.rank < b.rank
        }
    }
}

/// A Lua table copied into Swift: its sequence part 1...n and its other keys.
public struct LuaTable: CustomStringConvertible {
    public var array: [LuaValue]
    public var hash: [LuaKey: LuaValue]
    /// What the table was marked as (lunette.array / lunette.map, or by Swift): a list or a map
    /// whatever its keys look like, so an empty list stays a list in JSON and an integer-keyed map
    /// prints and passes as a map. Unmarked tables are judged by their keys.
    public var kind: Kind?

    public enum Kind: String, Sendable {
        case array, map
    }

    public init(array: [LuaValue] = [], hash: [LuaKey: LuaValue] = [:], kind: Kind? = nil) {
        self.array = array
        self.hash = hash
        self.kind = kind
    }

    public subscript(key: String) -> LuaValue? { hash[.string(key)] }

    public var isEmpty: Bool { array.isEmpty && hash.isEmpty }

    public var description: String {
        var parts = array.map(\.description)
        for key in hash.keys.sorted() { parts.append("\(key) = \(hash[key]!)") }
        return "{" + parts.joined(separator: ", ") + "}"
    }
}

// MARK: - Reading from and writing to the stack

extension LuaState {
    /// How deeply nested a table Swift reads: far beyond any data (a config, a tensor's rows),
    /// and far short of the C stack's end.
    public static let maxTableDepth = 200

    /// Copies the value at idx into Swift. Tables are read raw (no metamethods run), deeply;
    /// a table that contains itself, one nested deeper than `maxTableDepth`, or a key that is not
    /// a scalar, is an error that names where.
    public func value(at idx: Int32, in L: OpaquePointer? = nil) throws -> LuaValue {
        let L = L ?? self.L
        var visiting = Set<UnsafeRawPointer>()
        return try readValue(L, lua_absindex(L, idx), path: "", depth: 0, visiting: &visiting)
    }

    private func readValue(_ L: OpaquePointer, _ idx: Int32, path: String, depth: Int,
                           visiting: inout Set<UnsafeRawPointer>) throws -> LuaValue {
        switch lua_type(L, idx) {
        case LUA_TNIL, LUA_TNONE: return .nil
        case LUA_TBOOLEAN: return .boolean(lua_toboolean(L, idx) != 0)
        case LUA_TNUMBER:
            if lh_isinteger(L, idx) != 0 { return .integer(lua_tointegerx(L, idx, nil)) }
            return .number(lua_tonumberx(L, idx, nil))
        case LUA_TSTRING:
            return .string(stringAt(L, idx)!)
        case LUA_TTABLE:
            let identity = lua_topointer(L, idx)!
            if visiting.contains(identity) {
                throw LuaError.message("table\(path.isEmpty ? "" : " at \(path)") contains itself; cyclic tables cannot be converted")
            }
            guard depth < LuaState.maxTableDepth else {
                throw LuaError.message("table\(path.isEmpty ? "" : " at \(path)") is nested more than \(LuaState.maxTableDepth) levels deep")
            }
            // Each level holds a key and a value on the stack while the next is read.
            guard lua_checkstack(L, 4) != 0 else { throw LuaError.message("table\(path.isEmpty ? "" : " at \(path)") is nested too deeply for the Lua stack") }
            visiting.insert(identity)
            defer { visiting.remove(identity) }
            var table = LuaTable(kind: tableKind(at: idx, in: L))
            let n = Int64(lua_rawlen(L, idx))
            for i in 1...max(n, 1) where n > 0 {
                lua_rawgeti(L, idx, i)
                defer { lh_pop(L, 1) }
                table.array.append(try readValue(L, lua_gettop(L), path: path + "[\(i)]", depth: depth + 1, visiting: &visiting))
            }
            lua_pushnil(L)
            while lua_next(L, idx) != 0 {
                let keyIndex = lua_gettop(L) - 1
                let key: LuaKey
                switch lua_type(L, keyIndex) {
                case LUA_TNUMBER:
                    if lh_isinteger(L, keyIndex) != 0 {
                        let i = lua_tointegerx(L, keyIndex, nil)
                        if i >= 1 && i <= n { lh_pop(L, 1); continue }
                        key = .integer(i)
                    } else {
                        key = .number(lua_tonumberx(L, keyIndex, nil))
                    }
                case LUA_TSTRING:
                    // Copy without lua_tolstring's in-place conversion, which would confuse lua_next.
                    key = .string(stringAt(L, keyIndex)!)
                case LUA_TBOOLEAN: key = .boolean(lua_toboolean(L, keyIndex) != 0)
                default:
                    let t = String(cString: lua_typename(L, lua_type(L, keyIndex)))
                    lh_pop(L, 2)
                    throw LuaError.message("table\(path.isEmpty ? "" : " at \(path)") has a \(t) key; only strings, numbers and booleans can be keys")
                }
                let v: LuaValue
                do {
                    v = try readValue(L, lua_gettop(L), path: path + (key.description.hasPrefix("[") ? key.description : ".\(key.description)"), depth: depth + 1, visiting: &visiting)
                } catch {
                    lh_pop(L, 2)
                    throw error
                }
                table.hash[key] = v
                lh_pop(L, 1)
            }
            return .table(table)
        case LUA_TUSERDATA:
            if let box = lh_to_box(L, idx), let p = box.pointee.object {
                return .object(Unmanaged<AnyObject>.fromOpaque(p).takeUnretainedValue())
            }
            fallthrough
        default:
            let type = String(cString: lua_typename(L, lua_type(L, idx)))
            lua_pushvalue(L, idx)
            return .reference(LuaRef(state: self, popFrom: L), type: type)
        }
    }

    /// Pushes a Swift copy of a value onto L's stack.
    public func push(_ value: LuaValue, in L: OpaquePointer? = nil) {
        let L = L ?? self.L
        switch value {
        case .nil: lua_pushnil(L)
        case .boolean(let b): lua_pushboolean(L, b ? 1 : 0)
        case .integer(let i): lua_pushinteger(L, i)
        case .number(let d): lua_pushnumber(L, d)
        case .string(let s): pushString(L, s)
        case .table(let t):
            // Room for this table, a key and a value (Swift-made values nest as deep as read ones).
            guard lua_checkstack(L, 3) != 0 else { lua_pushnil(L); return }
            lua_createtable(L, Int32(clamping: t.array.count), Int32(clamping: t.hash.count))
            for (i, v) in t.array.enumerated() {
                push(v, in: L)
                lua_rawseti(L, -2, Int64(i + 1))
            }
            for (k, v) in t.hash {
                push(k.value, in: L)
                push(v, in: L)
                lua_rawset(L, -3)
            }
            if let kind = t.kind { setKind(kind, ofTableAt: -1, in: L) }
        case .object(let o): pushObject(o, in: L)
        case .reference(let r, _): r.push(L)
        }
    }
}

/// Lua strings are bytes; Swift sees them as UTF-8 (invalid sequences become U+FFFD).
func stringAt(_ L: OpaquePointer, _ idx: Int32) -> String? {
    guard lua_type(L, idx) == LUA_TSTRING else { return nil }
    var len = 0
    guard let p = lua_tolstring(L, idx, &len) else { return nil }
    return p.withMemoryRebound(to: UInt8.self, capacity: len) {
        String(decoding: UnsafeBufferPointer(start: $0, count: len), as: UTF8.self)
    }
}

func pushString(_ L: OpaquePointer, _ s: String) {
    var s = s
    s.withUTF8 { buffer in
        buffer.withMemoryRebound(to: CChar.self) { _ = lua_pushlstring(L, $0.baseAddress, $0.count) }
    }
}

func typeName(_ L: OpaquePointer, _ idx: Int32) -> String {
    if let box = lh_to_box(L, idx), let state = LuaState.current(L) {
        return state.classes[Int(box.pointee.class_id)].name
    }
    return String(cString: lua_typename(L, lua_type(L, idx)))
}

// MARK: - Tables marked as lists or maps

extension LuaState {
    /// The field of the marker metatables that names the kind.
    static let kindField = "__lunette_kind"

    /// The kind a table was marked with, nil for a table without a marker metatable.
    public func tableKind(at idx: Int32, in L: OpaquePointer? = nil) -> LuaTable.Kind? {
        let L = L ?? self.L
        guard lua_type(L, idx) == LUA_TTABLE, lua_getmetatable(L, idx) != 0 else { return nil }
        pushString(L, LuaState.kindField)
        _ = lua_rawget(L, -2)
        let kind = stringAt(L, -1).flatMap(LuaTable.Kind.init(rawValue:))
        lh_pop(L, 2)
        return kind
    }

    /// Marks the table at idx as a list or a map (its metatable becomes the kind's marker); a
    /// table that has another metatable is left as it is and the call returns false.
    @discardableResult
    public func setKind(_ kind: LuaTable.Kind, ofTableAt idx: Int32, in L: OpaquePointer? = nil) -> Bool {
        let L = L ?? self.L
        let idx = lua_absindex(L, idx)
        if lua_getmetatable(L, idx) != 0 {
            lh_pop(L, 1)
            if tableKind(at: idx, in: L) == nil { return false }
        }
        _ = lh_getref(L, kind == .array ? arrayMarkerRef : mapMarkerRef)
        lua_setmetatable(L, idx)
        return true
    }

    /// The two marker metatables, made once per state.
    func makeKindMarkers() {
        for kind in [LuaTable.Kind.array, .map] {
            lh_newtable(L)
            pushString(L, kind.rawValue)
            lua_setfield(L, -2, LuaState.kindField)
            let ref = luaL_ref(L, lh_registryindex())
            if kind == .array { arrayMarkerRef = ref } else { mapMarkerRef = ref }
        }
    }
}
