import CLua

/// Why a Lua value could not become the Swift type asked for; path locates the element ("[3].name").
public enum LuaDecodingError: Error, CustomStringConvertible {
    case mismatch(path: String, problem: String)

    public var description: String {
        switch self {
        case .mismatch(let path, let problem): return path.isEmpty ? problem : "\(path): \(problem)"
        }
    }
}

/// A Swift type that can be made from a Lua value.
public protocol LuaDecodable {
    /// Lua-side name of what is expected, for error messages ("integer", "array of string").
    static var luaTypeName: String { get }
    static func decode(_ value: LuaValue, at path: String) throws -> Self
}

/// A Swift value that can be pushed as a Lua value.
public protocol LuaRepresentable {
    func push(to L: OpaquePointer, state: LuaState)
}

func mismatch(_ path: String, _ expected: String, _ got: LuaValue) -> LuaDecodingError {
    .mismatch(path: path, problem: "\(expected) expected, got \(got.typeName)")
}

extension Int: LuaDecodable, LuaRepresentable {
    public static var luaTypeName: String { "integer" }
    public static func decode(_ value: LuaValue, at path: String) throws -> Int {
        switch value {
        case .integer(let i): return Int(i)
        case .number(let d):
            guard let i = Int(exactly: d) else {
                throw LuaDecodingError.mismatch(path: path, problem: "number \(d) has no integer representation")
            }
            return i
        default: throw mismatch(path, luaTypeName, value)
        }
    }
    public func push(to L: OpaquePointer, state: LuaState) { lua_pushinteger(L, Int64(self)) }
}

extension Int64: LuaDecodable, LuaRepresentable {
    public static var luaTypeName: String { "integer" }
    public static func decode(_ value: LuaValue, at path: String) throws -> Int64 {
        Int64(try Int.decode(value, at: path))
    }
    public func push(to L: OpaquePointer, state: LuaState) { lua_pushinteger(L, self) }
}

extension Double: LuaDecodable, LuaRepresentable {
    public static var luaTypeName: String { "number" }
    public static func decode(_ value: LuaValue, at path: String) throws -> Double {
        switch value {
        case .integer(let i): return Double(i)
        case .number(let d): return d
        default: throw mismatch(path, luaTypeName, value)
        }
    }
    public func push(to L: OpaquePointer, state: LuaState) { lua_pushnumber(L, self) }
}

extension Float: LuaDecodable, LuaRepresentable {
    public static var luaTypeName: String { "number" }
    public static func decode(_ value: LuaValue, at path: String) throws -> Float {
        Float(try Double.decode(value, at: path))
    }
    public func push(to L: OpaquePointer, state: LuaState) { lua_pushnumber(L, Double(self)) }
}

extension Bool: LuaDecodable, LuaRepresentable {
    public static var luaTypeName: String { "boolean" }
    public static func decode(_ value: LuaValue, at path: String) throws -> Bool {
        guard case .boolean(let b) = value else { throw mismatch(path, luaTypeName, value) }
        return b
    }
    public func push(to L: OpaquePointer, state: LuaState) { lua_pushboolean(L, self ? 1 : 0) }
}

extension String: LuaDecodable, LuaRepresentable {
    public static var luaTypeName: String { "string" }
    public static func decode(_ value: LuaValue, at path: String) throws -> String {
        guard case .string(let s) = value else { throw mismatch(path, luaTypeName, value) }
        return s
    }
    public func push(to L: OpaquePointer, state: LuaState) { pushString(L, self) }
}

extension LuaValue: LuaDecodable, LuaRepresentable {
    public static var luaTypeName: String { "value" }
    public static func decode(_ value: LuaValue, at path: String) throws -> LuaValue { value }
    public func push(to L: OpaquePointer, state: LuaState) { state.push(self, in: L) }
}

extension Optional: LuaDecodable where Wrapped: LuaDecodable {
    public static var luaTypeName: String { Wrapped.luaTypeName + " or nil" }
    public static func decode(_ value: LuaValue, at path: String) throws -> Wrapped? {
        if case .nil = value { return nil }
        return try Wrapped.decode(value, at: path)
    }
}

extension Optional: LuaRepresentable where Wrapped: LuaRepresentable {
    public func push(to L: OpaquePointer, state: LuaState) {
        if let self { self.push(to: L, state: state) } else { lua_pushnil(L) }
    }
}

extension Array: LuaDecodable where Element: LuaDecodable {
    public static var luaTypeName: String { "array of \(Element.luaTypeName)" }
    /// Accepts a sequence table {v1, v2, ...}; any other key is an error naming it.
    public static func decode(_ value: LuaValue, at path: String) throws -> [Element] {
        guard case .table(let t) = value else { throw mismatch(path, luaTypeName, value) }
        if let key = t.hash.keys.sorted().first {
            throw LuaDecodingError.mismatch(path: path, problem: "\(luaTypeName) expected, but the table has key \(key.description.hasPrefix("[") ? key.description : "'\(key)'") outside the sequence 1..\(t.array.count)")
        }
        return try t.array.enumerated().map { i, v in try Element.decode(v, at: "\(path)[\(i + 1)]") }
    }
}

extension Array: LuaRepresentable where Element: LuaRepresentable {
    public func push(to L: OpaquePointer, state: LuaState) {
        lua_createtable(L, Int32(clamping: count), 0)
        for (i, v) in enumerated() {
            v.push(to: L, state: state)
            lua_rawseti(L, -2, Int64(i + 1))
        }
    }
}

extension Dictionary: LuaDecodable where Key == String, Value: LuaDecodable {
    public static var luaTypeName: String { "table of \(Value.luaTypeName)" }
    /// Accepts a table whose keys are all strings.
    public static func decode(_ value: LuaValue, at path: String) throws -> [String: Value] {
        guard case .table(let t) = value else { throw mismatch(path, luaTypeName, value) }
        if !t.array.isEmpty {
            throw LuaDecodingError.mismatch(path: path, problem: "\(luaTypeName) with string keys expected, but the table has array items [1]..[\(t.array.count)]")
        }
        var result: [String: Value] = [:]
        for (k, v) in t.hash {
            guard case .string(let name) = k else {
                throw LuaDecodingError.mismatch(path: path, problem: "\(luaTypeName) with string keys expected, but the table has key \(k)")
            }
            result[name] = try Value.decode(v, at: path.isEmpty ? name : "\(path).\(name)")
        }
        return result
    }
}

extension Dictionary: LuaRepresentable where Key == String, Value: LuaRepresentable {
    public func push(to L: OpaquePointer, state: LuaState) {
        lua_createtable(L, 0, Int32(clamping: count))
        for (k, v) in self {
            pushString(L, k)
            v.push(to: L, state: state)
            lua_rawset(L, -3)
        }
    }
}

extension Dictionary where Key == String, Value == LuaValue {
    /// An options-table field decoded as T (its key names it in errors); nil when absent.
    public func option<T: LuaDecodable>(_ key: String, as type: T.Type) throws -> T? {
        try self[key].map { try T.decode($0, at: key) }
    }
}
