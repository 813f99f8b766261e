import CLua

/// A property of a Lua-visible class: `obj.name` reads it, `obj.name = v` writes it if settable.
public struct LuaPropertySpec {
    public let name: String
    public let type: String
    public let doc: String
    let getter: (AnyObject, inout LuaCall) throws -> Int32
    let setter: ((AnyObject, LuaCall) throws -> Void)?
    public var isSettable: Bool { setter != nil }
}

/// The registry entry of a Lua-visible Swift class.
public final class LuaClassSpec {
    /// The name analysts see: "torch.Tensor".
    public let name: String
    public let doc: String
    public let parent: LuaClassSpec?
    let id: Int32
    public internal(set) var methods: [String: LuaFunctionSpec] = [:]
    public internal(set) var properties: [String: LuaPropertySpec] = [:]
    /// Metamethods by event ("__call", "__len", ...), as defined on this class.
    public internal(set) var metamethods: [String: LuaFunctionSpec] = [:]
    var metatableRef: Int32 = LUA_NOREF
    /// `obj[key]` for keys that are not member names (numbers, tables, objects); key at 2.
    var indexGetter: ((AnyObject, inout LuaCall) throws -> Int32)?
    /// `obj[key] = value` for such keys; key at 2, value at 3.
    var indexSetter: ((AnyObject, LuaCall) throws -> Void)?
    /// Documentation of indexing, for help().
    public internal(set) var indexDoc: String?
    /// Indexing with string keys that are neither methods nor properties (attribute-style objects).
    var dynamicStringKeys = false

    /// Help for one object (member nil) or one of its members, where the class knows more than
    /// its registry entry (a config node lists its keys).
    var objectHelp: ((AnyObject, String?) -> String?)?
    func findObjectHelp() -> ((AnyObject, String?) -> String?)? { objectHelp ?? parent?.findObjectHelp() }

    /// Names an object answers to beyond its properties (a config node's keys), for completion.
    var memberNames: ((AnyObject) -> [String])?
    func findMemberNames() -> ((AnyObject) -> [String])? { memberNames ?? parent?.findMemberNames() }

    /// Bytes an object holds outside Lua's heap (a tensor's storage), for GC pressure.
    var externalSize: ((AnyObject) -> Int)?

    func findIndexGetter() -> ((AnyObject, inout LuaCall) throws -> Int32)? { indexGetter ?? parent?.findIndexGetter() }
    func findIndexSetter() -> ((AnyObject, LuaCall) throws -> Void)? { indexSetter ?? parent?.findIndexSetter() }

    init(name: String, doc: String, parent: LuaClassSpec?, id: Int32) {
        self.name = name
        self.doc = doc
        self.parent = parent
        self.id = id
    }

    /// Methods including inherited ones (the nearest definition wins).
    public var allMethods: [String: LuaFunctionSpec] {
        var result = parent?.allMethods ?? [:]
        for (k, v) in methods { result[k] = v }
        return result
    }

    /// Metamethods including inherited ones (the nearest definition wins).
    public var allMetamethods: [String: LuaFunctionSpec] {
        var result = parent?.allMetamethods ?? [:]
        for (k, v) in metamethods { result[k] = v }
        return result
    }

    /// The indexing documentation, inherited when the class defines none.
    public var effectiveIndexDoc: String? { indexDoc ?? parent?.effectiveIndexDoc }

    public var allProperties: [String: LuaPropertySpec] {
        var result = parent?.allProperties ?? [:]
        for (k, v) in properties { result[k] = v }
        return result
    }

    func property(_ name: String) -> LuaPropertySpec? {
        properties[name] ?? parent?.property(name)
    }
}

/// Describes the methods, properties and metamethods of a class while it is being defined.
public final class LuaClassBuilder<T: AnyObject> {
    let state: LuaState
    let spec: LuaClassSpec
    var metamethods: [(String, LuaFunctionSpec)] = []

    init(state: LuaState, spec: LuaClassSpec) {
        self.state = state
        self.spec = spec
    }

    private static func cast(_ call: LuaCall) throws -> T {
        try call.object(T.self, 1)
    }

    /// `obj:name(...)`: parameters exclude self.
    public func method(_ name: String, _ parameters: [LuaParameter]?, returns: String = "", doc: String,
                       _ body: @escaping (T, inout LuaCall) throws -> Int32) {
        let f = LuaFunctionSpec(name: "\(spec.name):\(name)", parameters: parameters, returns: returns, doc: doc,
                                isMethod: true) { call in try body(try Self.cast(call), &call) }
        spec.methods[name] = f
    }

    /// `obj.name`, read-only unless set is given (the new value is argument 3 of the call).
    public func property(_ name: String, type: String, doc: String,
                         get: @escaping (T, inout LuaCall) throws -> Int32,
                         set: ((T, LuaCall) throws -> Void)? = nil) {
        spec.properties[name] = LuaPropertySpec(
            name: name, type: type, doc: doc,
            getter: { o, call in try get(o as! T, &call) },
            setter: set.map { s in { o, call in try s(o as! T, call) } })
    }

    /// `obj[key]` and `obj[key] = value` for keys that are not member names (numbers, tables,
    /// other objects): the key is argument 2, the value argument 3.
    public func indexer(doc: String, includingNames: Bool = false, get: @escaping (T, inout LuaCall) throws -> Int32,
                        set: ((T, LuaCall) throws -> Void)? = nil) {
        spec.indexDoc = doc
        spec.dynamicStringKeys = includingNames
        spec.indexGetter = { o, call in try get(o as! T, &call) }
        spec.indexSetter = set.map { s in { o, call in try s(o as! T, call) } }
    }

    /// Tells the host how many bytes an object holds outside Lua's heap. Lua's collector only
    /// sees the small userdata; this lets the host collect once enough such memory was handed
    /// to Lua, so loops that make big tensors do not grow without bound.
    public func externalSize(_ size: @escaping (T) -> Int) {
        spec.externalSize = { o in size(o as! T) }
    }

    /// What help(obj) shows for one object (member nil) and help("obj.member") / ?obj.member
    /// for a member; nil falls back to the class's entry.
    public func help(_ describe: @escaping (T, _ member: String?) -> String?) {
        spec.objectHelp = { o, member in describe(o as! T, member) }
    }

    /// The names `obj.<Tab>` completes beyond methods and properties (dynamic keys).
    public func completions(_ names: @escaping (T) -> [String]) {
        spec.memberNames = { o in names(o as! T) }
    }

    /// `tostring(obj)` and what the REPL prints.
    public func tostring(_ describe: @escaping (T) -> String) {
        metamethod("__tostring", nil, doc: "tostring(obj)") { o, call in
            call.push(describe(o))
        }
    }

    /// `a == b` for two objects of this class that are not the same object.
    public func equals(_ equal: @escaping (T, T) -> Bool) {
        metamethod("__eq", nil, doc: "a == b") { a, call in
            guard let b = try? call.object(T.self, 2) else { return call.push(false) }
            return call.push(equal(a, b))
        }
    }

    /// Any other metamethod (`__add`, `__len`, `__call`, ...). Self is argument 1.
    public func metamethod(_ name: String, _ parameters: [LuaParameter]?, doc: String,
                           _ body: @escaping (T, inout LuaCall) throws -> Int32) {
        let f = LuaFunctionSpec(name: "\(spec.name).\(name)", parameters: parameters, returns: "", doc: doc,
                                isMethod: false) { call in
            // Binary metamethods may receive self second (2 + t): find the operand of this class.
            if let o = try? call.object(T.self, 1) { return try body(o, &call) }
            return try body(try call.object(T.self, 2), &call)
        }
        metamethods.append((name, f))
    }
}

extension LuaState {
    /// Defines a Lua-visible class for Swift type T. Objects of T (and of Swift subclasses not
    /// registered themselves) are pushed as userdata of this class; Lua's collector releases them.
    @discardableResult
    public func defineClass<T: AnyObject>(_ type: T.Type, name: String, doc: String, parent: LuaClassSpec? = nil,
                                          _ build: (LuaClassBuilder<T>) throws -> Void) rethrows -> LuaClassSpec {
        let spec = LuaClassSpec(name: name, doc: doc, parent: parent, id: Int32(classes.count))
        let builder = LuaClassBuilder<T>(state: self, spec: spec)
        try build(builder)
        classes.append(spec)
        classIDs[ObjectIdentifier(type)] = Int(spec.id)
        registry.add(spec)
        for m in spec.methods.values { registry.add(m) }

        // The methods table, inheriting from the parent's through __index.
        lua_createtable(L, 0, Int32(spec.methods.count))
        for (methodName, f) in spec.methods {
            pushFunctionSpec(f)
            lua_setfield(L, -2, methodName)
        }
        if let parent {
            lua_createtable(L, 0, 1)
            _ = lh_getref(L, parent.metatableRef)
            lua_getfield(L, -1, "__methods")
            lua_setfield(L, -3, "__index")
            lh_pop(L, 1)
            lua_setmetatable(L, -2)
        }
        let methodsIndex = lua_gettop(L)

        // The metatable.
        luaL_newmetatable(L, name)  // also sets __name, which luaL_tolstring and errors use
        lh_mark_class_metatable(L)
        lua_pushvalue(L, methodsIndex)
        lua_setfield(L, -2, "__methods")

        lua_pushvalue(L, methodsIndex)
        pushFunctionSpec(LuaFunctionSpec(name: "\(name).__index", parameters: nil, returns: "", doc: "", isMethod: false) { call in
            guard let key = stringAt(call.L, 2) else {
                guard let get = spec.findIndexGetter() else { return 0 }
                return try get(try call.object(AnyObject.self, 1), &call)
            }
            guard let property = spec.property(key) else {
                if spec.dynamicStringKeys, let get = spec.findIndexGetter() { return try get(try call.object(AnyObject.self, 1), &call) }
                return 0
            }
            let object = try call.object(AnyObject.self, 1)
            return try property.getter(object, &call)
        })
        lh_push_index(L)
        lua_setfield(L, -2, "__index")

        pushFunctionSpec(LuaFunctionSpec(name: "\(name).__newindex", parameters: nil, returns: "", doc: "", isMethod: false) { call in
            guard let key = stringAt(call.L, 2) else {
                guard let set = spec.findIndexSetter() else {
                    throw LuaError.message("\(name) cannot be indexed with a \(call.typeName(2))")
                }
                try set(try call.object(AnyObject.self, 1), call)
                return 0
            }
            guard let property = spec.property(key) else {
                if spec.dynamicStringKeys, let set = spec.findIndexSetter() {
                    try set(try call.object(AnyObject.self, 1), call)
                    return 0
                }
                throw LuaError.message("\(name) has no field '\(key)' to set")
            }
            guard let set = property.setter else {
                throw LuaError.message("\(name).\(key) is read-only")
            }
            try set(try call.object(AnyObject.self, 1), call)
            return 0
        })
        lua_setfield(L, -2, "__newindex")

        lh_push_gc(L)
        lua_setfield(L, -2, "__gc")
        lh_push_gc(L)
        lua_setfield(L, -2, "__close")

        // Metamethods are looked up raw in the metatable, so the inherited ones are set here too.
        for (event, f) in builder.metamethods { spec.metamethods[event] = f }
        for (event, f) in spec.allMetamethods.sorted(by: { $0.key < $1.key }) {
            pushFunctionSpec(f)
            lua_setfield(L, -2, event)
        }
        spec.metatableRef = luaL_ref(L, lh_registryindex())
        lh_pop(L, 1)  // methods table
        return spec
    }

    /// Counts bytes handed to Lua outside its heap; past the threshold, runs a full collection
    /// so that unreachable objects (and their storage) are released.
    func noteExternalMemory(_ bytes: Int, in L: OpaquePointer) {
        externalDebt += bytes
        if externalDebt >= externalCollectThreshold {
            externalDebt = 0
            lh_gc_collect(L)
        }
    }

    /// Pushes a Swift function for the spec (kept alive by the state) without registering it.
    func pushFunctionSpec(_ spec: LuaFunctionSpec) {
        let box = LuaFunctionBox(spec: spec, state: self)
        functionBoxes.append(box)
        lh_push_swift_function(L, Unmanaged.passUnretained(box).toOpaque())
    }

    /// The Lua class name registered for a Swift type.
    public func className(of type: AnyObject.Type) -> String? {
        classIDs[ObjectIdentifier(type)].map { classes[$0].name }
    }

    func classID(for object: AnyObject) throws -> Int {
        if let id = classIDs[ObjectIdentifier(Swift.type(of: object))] { return id }
        var mirror: Mirror? = Mirror(reflecting: object).superclassMirror
        while let m = mirror {
            if let cls = m.subjectType as? AnyObject.Type, let id = classIDs[ObjectIdentifier(cls)] { return id }
            mirror = m.superclassMirror
        }
        throw LuaError.message("no Lua class is registered for Swift type \(Swift.type(of: object))")
    }

    /// Pushes a Swift object as its class's userdata; the same object is always the same Lua value.
    /// Objects of unregistered classes push nil (push(checked:) reports them as errors).
    public func pushObject(_ object: AnyObject, in L: OpaquePointer? = nil) {
        let L = L ?? self.L
        guard let id = try? classID(for: object) else {
            lua_pushnil(L)
            return
        }
        let key = Unmanaged.passUnretained(object).toOpaque()
        _ = lh_getref(L, objectCacheRef)
        if lua_rawgetp(L, -1, key) == LUA_TUSERDATA, let box = lh_to_box(L, -1), box.pointee.object == key {
            lh_remove(L, -2)
            return
        }
        lh_pop(L, 1)
        if let size = classes[id].externalSize {
            noteExternalMemory(size(object), in: L)
        }
        _ = lh_new_box(L, Unmanaged.passRetained(object).toOpaque(), Int32(id), classes[id].metatableRef)
        lua_pushvalue(L, -1)
        lua_rawsetp(L, -3, key)
        lh_remove(L, -2)
    }
}

extension LuaState {
    /// The dynamic member names of the object at idx (for completion); empty when none.
    public func memberNames(ofObjectAt idx: Int32) -> [String] {
        guard let box = lh_to_box(L, idx), let p = box.pointee.object, let names = classes[Int(box.pointee.class_id)].findMemberNames() else { return [] }
        return names(Unmanaged<AnyObject>.fromOpaque(p).takeUnretainedValue())
    }

    /// obj[key] for the object at idx, read under protection (a class's __index is Swift); nil
    /// when the read fails.
    public func member(_ key: String, ofObjectAt idx: Int32) -> LuaValue? {
        guard let object = try? value(at: idx) else { return nil }
        if memberReader == nil { memberReader = try? load("local o, k = ...; return o[k]", name: "=(member)") }
        guard let reader = memberReader, let v = try? call(reader, [object, .string(key)]).first else { return nil }
        return v
    }
}
