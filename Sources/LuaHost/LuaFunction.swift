import CLua
import Support

/// The kinds of argument the registry can check before a Swift function runs.
public enum LuaType: Equatable, CustomStringConvertible, Sendable {
    case any, boolean, integer, number, string, table, function
    /// A Swift object of the named Lua class (or a class inheriting from it).
    case object(String)
    /// A table or a Swift object of the named class (functions taking `{...}` or an object).
    case tableOr(String)

    public var description: String {
        switch self {
        case .any: return "value"
        case .boolean: return "boolean"
        case .integer: return "integer"
        case .number: return "number"
        case .string: return "string"
        case .table: return "table"
        case .function: return "function"
        case .object(let c): return c
        case .tableOr(let c): return "table or \(c)"
        }
    }
}

/// One parameter of a Lua-visible function, as its signature, completion and checks see it.
public struct LuaParameter: Sendable {
    public var name: String
    public var type: LuaType
    public var optional: Bool

    public init(_ name: String, _ type: LuaType, optional: Bool = false) {
        self.name = name
        self.type = type
        self.optional = optional
    }
}

/// The registry entry of a Lua-visible Swift function: its name, signature and one-line doc.
/// help(), tab completion, argument checks and the API reference all read this, and only this.
public final class LuaFunctionSpec: @unchecked Sendable {
    /// The qualified name as analysts write it: "torch.randn", "torch.Tensor:size".
    public let name: String
    /// nil: the function checks its own arguments (variadic functions).
    public let parameters: [LuaParameter]?
    public let returns: String
    public let doc: String
    /// Methods are called with `:`; their self is not counted in argument positions.
    public let isMethod: Bool
    let body: (inout LuaCall) throws -> Int32

    init(name: String, parameters: [LuaParameter]?, returns: String, doc: String,
         isMethod: Bool, body: @escaping (inout LuaCall) throws -> Int32) {
        self.name = name
        self.parameters = parameters
        self.returns = returns
        self.doc = doc
        self.isMethod = isMethod
        self.body = body
    }

    /// "torch.zeros(sizes, dtype?) -> Tensor"
    public var signature: String {
        let params: String
        if let parameters {
            params = parameters.map { $0.name + ($0.optional ? "?" : "") }.joined(separator: ", ")
        } else {
            params = "..."
        }
        return "\(name)(\(params))" + (returns.isEmpty ? "" : " -> \(returns)")
    }

    var isMetamethod: Bool { name.contains(".__") }

    /// The name Lua's error messages use: "size" for a method, the full name otherwise.
    var shortName: String {
        if isMethod, let colon = name.lastIndex(of: ":") { return String(name[name.index(after: colon)...]) }
        return name
    }
}

/// What a Swift function sees of its call: the arguments on L's stack, and a way to push results.
public struct LuaCall {
    public let L: OpaquePointer
    // Unmanaged: the state and the spec outlive every call, and this keeps the hot path free
    // of reference counting.
    private let stateRef: Unmanaged<LuaState>
    private let functionRef: Unmanaged<LuaFunctionSpec>
    public var state: LuaState { stateRef.takeUnretainedValue() }
    public var function: LuaFunctionSpec { functionRef.takeUnretainedValue() }
    /// The number of arguments on the stack (self included for methods).
    public let count: Int32
    /// Results pushed so far.
    public private(set) var results: Int32 = 0

    init(L: OpaquePointer, state: Unmanaged<LuaState>, function: Unmanaged<LuaFunctionSpec>, isMethod: Bool) {
        self.L = L
        self.stateRef = state
        self.functionRef = function
        self.isMethod = isMethod
        self.count = lua_gettop(L)
    }

    let isMethod: Bool

    /// The argument position as the caller counts it (self excluded for methods).
    public func position(_ idx: Int32) -> Int { Int(isMethod ? idx - 1 : idx) }

    public func argumentError(_ idx: Int32, _ problem: String) -> LuaError {
        .argument(position: position(idx), problem: problem)
    }

    public func isNone(_ idx: Int32) -> Bool { lua_type(L, idx) <= LUA_TNIL }
    public func type(_ idx: Int32) -> Int32 { lua_type(L, idx) }
    public func typeName(_ idx: Int32) -> String { LuaHost.typeName(L, idx) }

    func expected(_ idx: Int32, _ what: String) -> LuaError {
        argumentError(idx, "\(what) expected, got \(isNone(idx) && idx > count ? "no value" : typeName(idx))")
    }

    public func number(_ idx: Int32) throws -> Double {
        var ok: Int32 = 0
        let v = lua_tonumberx(L, idx, &ok)
        guard ok != 0, lua_type(L, idx) == LUA_TNUMBER else { throw expected(idx, "number") }
        return v
    }

    public func integer(_ idx: Int32) throws -> Int {
        guard lua_type(L, idx) == LUA_TNUMBER else { throw expected(idx, "integer") }
        var ok: Int32 = 0
        let v = lua_tointegerx(L, idx, &ok)
        guard ok != 0 else { throw argumentError(idx, "number has no integer representation") }
        return Int(v)
    }

    public func string(_ idx: Int32) throws -> String {
        guard let s = stringAt(L, idx) else { throw expected(idx, "string") }
        return s
    }

    /// A Lua string's bytes as they are (binary data: encoded images, JSON text).
    public func bytes(_ idx: Int32) throws -> [UInt8] {
        guard lua_type(L, idx) == LUA_TSTRING else { throw expected(idx, "string") }
        var len = 0
        let p = lua_tolstring(L, idx, &len)!
        return p.withMemoryRebound(to: UInt8.self, capacity: len) { Array(UnsafeBufferPointer(start: $0, count: len)) }
    }

    public func boolean(_ idx: Int32) throws -> Bool {
        guard lua_type(L, idx) == LUA_TBOOLEAN else { throw expected(idx, "boolean") }
        return lua_toboolean(L, idx) != 0
    }

    public func optionalNumber(_ idx: Int32) throws -> Double? { isNone(idx) ? nil : try number(idx) }
    public func optionalInteger(_ idx: Int32) throws -> Int? { isNone(idx) ? nil : try integer(idx) }
    public func optionalString(_ idx: Int32) throws -> String? { isNone(idx) ? nil : try string(idx) }
    public func optionalBoolean(_ idx: Int32) throws -> Bool? { isNone(idx) ? nil : try boolean(idx) }

    /// Any argument copied into Swift (tables deeply); errors name the argument.
    public func value(_ idx: Int32) throws -> LuaValue {
        do {
            return try state.value(at: idx, in: L)
        } catch let LuaError.message(m) {
            throw argumentError(idx, m)
        }
    }

    /// An argument decoded into a Swift type; a mismatch names the argument and the element.
    public func decode<T: LuaDecodable>(_ type: T.Type, _ idx: Int32) throws -> T {
        do {
            return try T.decode(value(idx), at: "")
        } catch let LuaDecodingError.mismatch(path, problem) {
            throw argumentError(idx, path.isEmpty ? problem : "\(path): \(problem)")
        }
    }

    /// An options table: a key it does not know is an error naming the key and listing the
    /// known ones (a misspelt option must never be ignored silently). Absent: empty.
    /// `ignored` are keys the Python original takes that mean nothing here: accepted and dropped.
    public func options(_ idx: Int32, allowed: [String], ignored: [String] = []) throws -> [String: LuaValue] {
        if isNone(idx) || lua_type(L, idx) == LUA_TNIL { return [:] }
        var o = try decode([String: LuaValue].self, idx)
        if let unknown = o.keys.sorted().first(where: { !allowed.contains($0) && !ignored.contains($0) }) {
            throw argumentError(idx, "unknown option '\(unknown)'\(Suggestion.hint(for: unknown, among: allowed)) (the options are \(allowed.joined(separator: ", ")))")
        }
        for key in ignored { o[key] = nil }
        return o
    }

    /// A Swift object of a registered class, or an argument error naming the expected class.
    public func object<T: AnyObject>(_ type: T.Type, _ idx: Int32) throws -> T {
        if let box = lh_to_box(L, idx) {
            guard let p = box.pointee.object else {
                throw argumentError(idx, "\(typeName(idx)) has been released")
            }
            if let o = Unmanaged<AnyObject>.fromOpaque(p).takeUnretainedValue() as? T { return o }
        }
        throw expected(idx, state.className(of: T.self) ?? "\(T.self)")
    }

    /// Any argument kept as a reference (a callable table or userdata, say).
    public func reference(_ idx: Int32) -> LuaRef {
        lua_pushvalue(L, idx)
        return LuaRef(state: state, popFrom: L)
    }

    /// A function argument kept as a reference (to call later through LuaState.call).
    public func function(_ idx: Int32) throws -> LuaRef {
        guard lua_type(L, idx) == LUA_TFUNCTION else { throw expected(idx, "function") }
        lua_pushvalue(L, idx)
        return LuaRef(state: state, popFrom: L)
    }

    // MARK: results

    /// Pushes bytes as a Lua string (binary-safe).
    @discardableResult
    public func push(bytes: [UInt8]) -> Int32 {
        bytes.withUnsafeBufferPointer { b in b.withMemoryRebound(to: CChar.self) { _ = lua_pushlstring(L, $0.baseAddress, $0.count) } }
        return 1
    }

    @discardableResult
    public mutating func push(_ value: LuaValue) -> Int32 {
        state.push(value, in: L)
        results += 1
        return results
    }

    @discardableResult
    public mutating func push(_ value: some LuaRepresentable) -> Int32 {
        value.push(to: L, state: state)
        results += 1
        return results
    }

    @discardableResult
    public mutating func pushNil() -> Int32 {
        lua_pushnil(L)
        results += 1
        return results
    }

    @discardableResult
    public mutating func push(object: AnyObject) -> Int32 {
        state.pushObject(object, in: L)
        results += 1
        return results
    }
}

/// One precomputed argument check: what the registry's parameter list says, without strings.
struct ArgumentCheck {
    enum Kind: UInt8 { case any, boolean, integer, number, string, table, function, object, tableOrObject }
    var kind: Kind
    var optional: Bool
    var className: String?
}

/// Boxes a registered function for the trampoline; kept alive by its LuaState.
///
/// The hot path reads only unowned(unsafe) references and raw buffers, so a call does no
/// reference counting beyond the closure's own context.
final class LuaFunctionBox {
    let spec: LuaFunctionSpec
    let specRef: Unmanaged<LuaFunctionSpec>
    let stateRef: Unmanaged<LuaState>
    let isMethod: Bool
    /// nil when the function checks its own arguments.
    let checks: UnsafeMutableBufferPointer<ArgumentCheck>?
    let body: (inout LuaCall) throws -> Int32

    deinit { checks?.deinitialize().deallocate() }

    init(spec: LuaFunctionSpec, state: LuaState) {
        self.spec = spec
        self.specRef = Unmanaged.passUnretained(spec)
        self.stateRef = Unmanaged.passUnretained(state)
        self.isMethod = spec.isMethod
        self.body = spec.body
        // Nothing to check when every parameter accepts any value (and self is checked elsewhere).
        let needsChecks = spec.isMethod || (spec.parameters ?? []).contains { $0.type != .any }
        self.checks = spec.parameters.flatMap { parameters in
            guard needsChecks else { return nil }
            let buffer = UnsafeMutableBufferPointer<ArgumentCheck>.allocate(capacity: parameters.count)
            _ = buffer.initialize(from: parameters.map { p -> ArgumentCheck in
                switch p.type {
                case .any: return ArgumentCheck(kind: .any, optional: true)
                case .boolean: return ArgumentCheck(kind: .boolean, optional: p.optional)
                case .integer: return ArgumentCheck(kind: .integer, optional: p.optional)
                case .number: return ArgumentCheck(kind: .number, optional: p.optional)
                case .string: return ArgumentCheck(kind: .string, optional: p.optional)
                case .table: return ArgumentCheck(kind: .table, optional: p.optional)
                case .function: return ArgumentCheck(kind: .function, optional: p.optional)
                case .object(let c): return ArgumentCheck(kind: .object, optional: p.optional, className: c)
                case .tableOr(let c): return ArgumentCheck(kind: .tableOrObject, optional: p.optional, className: c)
                }
            })
            return buffer
        }
    }
}

/// The single dispatch entry of every Lua-visible Swift function. It never lets a Lua error
/// longjmp over Swift: it returns a status and the C trampoline raises after it has returned.
func luaHostDispatch(_ L: OpaquePointer?, _ ctx: UnsafeMutableRawPointer?) -> Int32 {
    Unmanaged<LuaFunctionBox>.fromOpaque(ctx!)._withUnsafeGuaranteedRef { box in
        dispatch(L!, box)
    }
}

@inline(__always)
private func dispatch(_ L: OpaquePointer, _ box: LuaFunctionBox) -> Int32 {
    var call = LuaCall(L: L, state: box.stateRef, function: box.specRef, isMethod: box.isMethod)
    do {
        if let checks = box.checks {
            try checkArguments(checks, call: call)
        }
        return try box.body(&call)
    } catch {
        return raise(error, call: call)
    }
}

/// Leaves the error on the stack and tells the trampoline how to raise it.
private func raise(_ error: Error, call: LuaCall) -> Int32 {
    let L = call.L
    let spec = call.function
    lua_settop(L, call.count)  // drop partial results
    switch asLuaError(error) {
    case .value(let ref, _):
        ref.push(L)
        return LH_RAISE_VALUE
    case .argument(let position, let problem):
        if position == 0 {
            pushString(L, "calling '\(spec.shortName)' on bad self (\(problem))")
        } else {
            pushString(L, "bad argument #\(position) to '\(spec.shortName)' (\(problem))")
        }
        return LH_RAISE_MESSAGE
    case .message(let m):
        // Metamethods (__index, __add, ...) speak as the class; other functions name themselves.
        pushString(L, spec.isMetamethod ? m : "\(spec.shortName): \(m)")
        return LH_RAISE_MESSAGE
    }
}

@inline(__always)
private func checkArguments(_ checks: UnsafeMutableBufferPointer<ArgumentCheck>, call: LuaCall) throws {
    let L = call.L
    let isMethod = call.isMethod
    let offset: Int32 = isMethod ? 1 : 0
    if isMethod, lh_to_box(L, 1) == nil {
        throw LuaError.argument(position: 0, problem: "\(call.function.name.split(separator: ":").first ?? "object") expected, got \(call.typeName(1)); call methods with ':'")
    }
    var idx = offset
    for i in 0..<checks.count {
        idx += 1
        let kind = checks[i].kind
        let t = lua_type(L, idx)
        let ok: Bool
        switch kind {
        case .any: continue
        case .number: ok = t == LUA_TNUMBER
        case .integer:
            if t == LUA_TNUMBER {
                var isInt: Int32 = 0
                _ = lua_tointegerx(L, idx, &isInt)
                if isInt == 0 { throw call.argumentError(idx, "number has no integer representation") }
                ok = true
            } else {
                ok = false
            }
        case .boolean: ok = t == LUA_TBOOLEAN
        case .string: ok = t == LUA_TSTRING
        case .table: ok = t == LUA_TTABLE
        case .function: ok = t == LUA_TFUNCTION
        case .object: ok = call.state.isInstance(L, idx, of: checks[i].className!)
        case .tableOrObject: ok = t == LUA_TTABLE || call.state.isInstance(L, idx, of: checks[i].className!)
        }
        if ok || (t <= LUA_TNIL && checks[i].optional) { continue }
        throw call.expected(idx, "\(call.function.parameters![i].type)")
    }
}

extension LuaState {
    func isInstance(_ L: OpaquePointer, _ idx: Int32, of className: String) -> Bool {
        guard let box = lh_to_box(L, idx) else { return false }
        var cls: LuaClassSpec? = classes[Int(box.pointee.class_id)]
        while let c = cls {
            if c.name == className { return true }
            cls = c.parent
        }
        return false
    }
}
