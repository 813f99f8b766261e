import CLua

/// Owns one lua_State and everything Swift registered in it. Lives on one thread.
///
/// Calls from Swift into Lua go through protected calls only; Lua-visible Swift functions are
/// reached through the C trampoline (see CLua.h), so no longjmp ever crosses a Swift frame.
public final class LuaState {
    public let L: OpaquePointer
    /// Describes every Lua-visible function, class and module (help, completion, checks).
    public let registry = LuaRegistry()
    var classes: [LuaClassSpec] = []
    var classIDs: [ObjectIdentifier: Int] = [:]
    var functionBoxes: [LuaFunctionBox] = []
    var objectCacheRef: Int32 = 0
    /// Lua functions documented by `---` comments, by identity (kept alive by their module).
    var luaFunctionDocs: [UnsafeRawPointer: LuaFunctionSpec] = [:]
    /// A Lua function reading o[k], for completion's protected member reads.
    var memberReader: LuaRef?
    var arrayMarkerRef: Int32 = 0
    var mapMarkerRef: Int32 = 0
    let lifetime: LuaLifetime
    /// Bytes held by objects pushed since the last forced collection, and when to collect.
    var externalDebt = 0
    public var externalCollectThreshold = 256 << 20

    public init() throws {
        guard let L = luaL_newstate() else { throw LuaError.message("cannot create a Lua state: out of memory") }
        self.L = L
        self.lifetime = LuaLifetime(L: L)
        lh_set_dispatch(luaHostDispatch)
        lh_set_release { pointer in Unmanaged<AnyObject>.fromOpaque(pointer!).release() }
        lh_set_host(L, Unmanaged.passUnretained(self).toOpaque())
        guard lh_openlibs(L) == LUA_OK else {
            lua_close(L)
            throw LuaError.message("cannot open the Lua standard libraries")
        }
        // Swift objects already in Lua map to their userdata, so one object is one Lua value.
        lh_newtable(L)
        lh_newtable(L)
        pushString(L, "v")
        lua_setfield(L, -2, "__mode")
        lua_setmetatable(L, -2)
        objectCacheRef = luaL_ref(L, lh_registryindex())
        makeKindMarkers()
        installModuleDocumenter()
        // (Fully initialised here: a throw runs deinit, which closes L.)
        do { _ = try evaluate(LuaState.textOnlyLoading, name: "=(lunette)") } catch {
            throw LuaError.message("cannot set up chunk loading: \(error)")
        }
    }

    /// load, loadfile, dofile and require read text only: Lua 5.4 does not verify bytecode, so a
    /// binary chunk (string.dump's output, or a corrupt one) can crash the interpreter. A load
    /// error that does not say where (the parser's "C stack overflow") gets the chunk's name.
    static let textOnlyLoading = """
        local load, loadfile, select, error, type = load, loadfile, select, error, type
        local function named(name, message)
            if type(message) == "string" and type(name) == "string" and not message:find(name, 1, true) then
                return name .. ": " .. message
            end
            return message
        end
        function _G.load(chunk, name, mode, ...)
            if mode ~= nil and mode ~= "t" then
                return nil, "binary chunks are not loaded (Lunette loads text only: a corrupt binary chunk can crash Lua); mode must be 't'"
            end
            local f, message
            if select("#", ...) > 0 then f, message = load(chunk, name, "t", ...) else f, message = load(chunk, name, "t") end
            if f then return f end
            if type(name) == "string" then message = named((name:gsub("^[=@]", "")), message) end
            return nil, message
        end
        function _G.loadfile(filename, mode, ...)
            if mode ~= nil and mode ~= "t" then
                return nil, "binary chunks are not loaded (Lunette loads text only: a corrupt binary chunk can crash Lua); mode must be 't'"
            end
            local f, message
            if select("#", ...) > 0 then f, message = loadfile(filename, "t", ...) else f, message = loadfile(filename, "t") end
            if f then return f end
            return nil, named(filename, message)
        end
        function _G.dofile(filename)
            local f, message = _G.loadfile(filename)
            if not f then error(message, 2) end
            return f()
        end
        local document = __lunette_document
        __lunette_document = nil
        package.searchers[2] = function(name)
            local path, message = package.searchpath(name, package.path)
            if not path then return message end
            local f, problem = _G.loadfile(path)
            if not f then error(("error loading module '%s' from file '%s':\\n\\t%s"):format(name, path, problem), 2) end
            -- The module's --- comments join the registry (help, ?name, completion).
            return function(...)
                local m = f(...)
                if type(m) == "table" then document(name, path, m) end
                return m
            end, path
        end
        """

    deinit {
        lifetime.isOpen = false
        lua_close(L)
    }

    /// The LuaState that owns L (or a coroutine of it).
    public static func current(_ L: OpaquePointer) -> LuaState? {
        guard let p = lh_get_host(L) else { return nil }
        return Unmanaged<LuaState>.fromOpaque(p).takeUnretainedValue()
    }

    /// Lua's release, e.g. "Lua 5.4.4".
    public var version: String { String(cString: lh_release()) }

    // MARK: globals

    public func setGlobal(_ name: String, _ value: LuaValue) throws {
        try push(checked: value)
        lua_setglobal(L, name)
    }

    /// Reads a global raw-free (through _ENV's metatable if any) under protection.
    public func global(_ name: String) throws -> LuaValue {
        try evaluate("return \(name)", name: "=(global)").first ?? .nil
    }

    // MARK: running Lua

    /// Loads text (never bytecode unless mode says so) as a function, without running it.
    public func load(_ code: String, name: String, mode: String = "t") throws -> LuaRef {
        let status = pushLoaded(code, name: name, mode: mode)
        guard status == LUA_OK else {
            let message = stringAt(L, -1) ?? "cannot load \(name)"
            lh_pop(L, 1)
            throw LuaError.message(message)
        }
        return LuaRef(state: self, popFrom: L)
    }

    /// lua_load of text: pushes the function (LUA_OK) or the error message, and returns the status.
    public func pushLoaded(_ code: String, name: String, mode: String = "t") -> Int32 {
        var code = code
        return code.withUTF8 { buffer in
            buffer.withMemoryRebound(to: CChar.self) { lh_load(L, $0.baseAddress, $0.count, name, mode) }
        }
    }

    /// Runs a chunk and returns its results. A failure throws the error value, with a
    /// traceback appended when it is a string.
    @discardableResult
    public func evaluate(_ code: String, name: String = "=(swift)") throws -> [LuaValue] {
        let function = try load(code, name: name)
        return try callTraced(function, [])
    }

    /// Calls a Lua function with arguments; error values come back unchanged (LuaError.value).
    @discardableResult
    public func call(_ function: LuaRef, _ arguments: [LuaValue]) throws -> [LuaValue] {
        try invoke(function, arguments, traced: false)
    }

    /// Like call, but string errors get a traceback (for top-level chunks).
    @discardableResult
    public func callTraced(_ function: LuaRef, _ arguments: [LuaValue], interruptible: Bool = false) throws -> [LuaValue] {
        try invoke(function, arguments, traced: true, interruptible: interruptible)
    }

    private func invoke(_ function: LuaRef, _ arguments: [LuaValue], traced: Bool, interruptible: Bool = false) throws -> [LuaValue] {
        let base = lua_gettop(L)
        guard lua_checkstack(L, Int32(clamping: arguments.count + 20)) != 0 else {
            throw LuaError.message("Lua stack overflow: too many arguments (\(arguments.count))")
        }
        function.push(L)
        for a in arguments { try push(checked: a) }
        let status = traced
            ? lh_docall(L, Int32(arguments.count), LUA_MULTRET, interruptible ? 1 : 0)
            : lh_pcall(L, Int32(arguments.count), LUA_MULTRET)
        if status != LUA_OK {
            throw popError()
        }
        defer { lua_settop(L, base) }
        var results: [LuaValue] = []
        let top = lua_gettop(L)
        if top > base {
            for i in (base + 1)...top { results.append(try value(at: i)) }
        }
        return results
    }

    /// Pops the error value on top of the stack into a LuaError.value with a readable description.
    func popError() -> LuaError {
        let description: String
        if let s = stringAt(L, -1) {
            description = s
        } else {
            var len = 0
            if let p = lh_tostring_protected(L, -1, &len) {
                description = String(cString: p)
            } else {
                description = "(error object is a \(String(cString: lua_typename(L, lua_type(L, -2)))) value)"
            }
            lh_pop(L, 1)
        }
        return .value(LuaRef(state: self, popFrom: L), description: description)
    }

    // MARK: functions and modules

    /// Creates a Lua-visible Swift function, records it in the registry and pushes it.
    @discardableResult
    public func pushFunction(_ name: String, _ parameters: [LuaParameter]?, returns: String = "", doc: String,
                             _ body: @escaping (inout LuaCall) throws -> Int32) -> LuaFunctionSpec {
        let spec = LuaFunctionSpec(name: name, parameters: parameters, returns: returns, doc: doc, isMethod: false, body: body)
        pushFunctionSpec(spec)
        registry.add(spec)
        return spec
    }

    /// Builds a module table, makes `require(name)` return it, and records it in the registry.
    @discardableResult
    public func defineModule(_ name: String, doc: String, _ build: (LuaModuleBuilder) throws -> Void) rethrows -> LuaModuleSpec {
        let spec = LuaModuleSpec(name: name, doc: doc)
        registry.add(spec)
        lh_newtable(L)
        let builder = LuaModuleBuilder(state: self, spec: spec, tableIndex: lua_gettop(L))
        try build(builder)
        spec.tableIdentity = lua_topointer(L, -1)
        // package.loaded[name] = table
        luaL_getsubtable(L, lh_registryindex(), LUA_LOADED_TABLE)
        lua_pushvalue(L, -2)
        lua_setfield(L, -2, name)
        lh_pop(L, 2)
        return spec
    }

    /// The registry name of the function value at idx, when it is a Swift function.
    public func functionSpec(at idx: Int32) -> LuaFunctionSpec? {
        var ctx: UnsafeMutableRawPointer?
        guard lh_swift_function_ctx(L, idx, &ctx) != 0, let ctx else {
            guard lua_type(L, idx) == LUA_TFUNCTION, let p = lua_topointer(L, idx) else { return nil }
            return luaFunctionDocs[p]
        }
        return Unmanaged<LuaFunctionBox>.fromOpaque(ctx).takeUnretainedValue().spec
    }

    /// The class of the Swift object at idx, if it is one.
    public func classSpec(at idx: Int32) -> LuaClassSpec? {
        guard let box = lh_to_box(L, idx) else { return nil }
        return classes[Int(box.pointee.class_id)]
    }

    /// The module whose table is at idx.
    public func moduleSpec(at idx: Int32) -> LuaModuleSpec? {
        guard lua_type(L, idx) == LUA_TTABLE, let p = lua_topointer(L, idx) else { return nil }
        return registry.modules.values.first { $0.tableIdentity == p }
    }

    // MARK: pushing checked values

    /// Pushes a value; a Swift object of a class never registered is an error.
    public func push(checked value: LuaValue, in L: OpaquePointer? = nil) throws {
        try validate(value)
        push(value, in: L)
    }

    private func validate(_ value: LuaValue) throws {
        switch value {
        case .object(let o): _ = try classID(for: o)
        case .table(let t):
            for v in t.array { try validate(v) }
            for v in t.hash.values { try validate(v) }
        default: break
        }
    }
}

/// The registry of Lua-visible names: one entry per function, class and module.
public final class LuaRegistry {
    public private(set) var functions: [String: LuaFunctionSpec] = [:]
    public private(set) var modules: [String: LuaModuleSpec] = [:]
    public private(set) var classes: [String: LuaClassSpec] = [:]

    func add(_ f: LuaFunctionSpec) { functions[f.name] = f }
    func add(_ m: LuaModuleSpec) { modules[m.name] = m }
    func add(_ c: LuaClassSpec) { classes[c.name] = c }
}

/// A Lua module (a table of functions and values) as the registry describes it.
public final class LuaModuleSpec {
    public let name: String
    public let doc: String
    /// Documented non-function members: name -> doc.
    public internal(set) var values: [String: String] = [:]
    public internal(set) var members: [String] = []
    var tableIdentity: UnsafeRawPointer?

    init(name: String, doc: String) {
        self.name = name
        self.doc = doc
    }
}

/// Fills one module table.
public final class LuaModuleBuilder {
    public let state: LuaState
    public let spec: LuaModuleSpec
    let tableIndex: Int32

    init(state: LuaState, spec: LuaModuleSpec, tableIndex: Int32) {
        self.state = state
        self.spec = spec
        self.tableIndex = tableIndex
    }

    /// Adds a Swift function `module.name`.
    @discardableResult
    public func function(_ name: String, _ parameters: [LuaParameter]?, returns: String = "", doc: String,
                         _ body: @escaping (inout LuaCall) throws -> Int32) -> LuaFunctionSpec {
        let spec = state.pushFunction("\(self.spec.name).\(name)", parameters, returns: returns, doc: doc, body)
        lua_setfield(state.L, tableIndex, name)
        self.spec.members.append(name)
        return spec
    }

    /// Adds a documented constant `module.name`.
    public func value(_ name: String, _ value: LuaValue, doc: String) throws {
        try state.push(checked: value)
        lua_setfield(state.L, tableIndex, name)
        spec.values[name] = doc
        spec.members.append(name)
    }

    /// Adds a nested module `module.name` (also reachable with require "module.name").
    @discardableResult
    public func submodule(_ name: String, doc: String, _ build: (LuaModuleBuilder) throws -> Void) rethrows -> LuaModuleSpec {
        let sub = try state.defineModule("\(spec.name).\(name)", doc: doc, build)
        luaL_getsubtable(state.L, lh_registryindex(), LUA_LOADED_TABLE)
        lua_getfield(state.L, -1, sub.name)
        lua_setfield(state.L, tableIndex, name)
        lh_pop(state.L, 1)
        spec.members.append(name)
        return sub
    }
}
