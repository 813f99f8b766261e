import CLua
import Detection
import LuaHost

/// `detectron2.config`: get_cfg() and the CfgNode class, type-checked on assignment.
extension LunetteBindings {
    static func cfgToLua(_ v: CfgValue) -> LuaValue {
        switch v {
        case .none: return .nil
        case .bool(let b): return .boolean(b)
        case .int(let i): return .integer(Int64(i))
        case .float(let d): return .number(d)
        case .string(let s): return .string(s)
        case .list(let l): return .table(LuaTable(array: l.map(cfgToLua)))
        case .node(let n): return .object(n)
        }
    }

    /// A whole node as plain nested tables (for code that reads cfg keys as tables).
    static func cfgAsTable(_ n: CfgNode) -> LuaValue {
        var t = LuaTable()
        for k in n.keys {
            if case .node(let child)? = n[k] { t.hash[.string(k)] = cfgAsTable(child) } else { t.hash[.string(k)] = cfgToLua(n[k]!) }
        }
        return .table(t)
    }

    /// cfg.KEY = value from Lua: type-checked as yacs does (integers accepted for floats), and
    /// `nil` is refused, since assigning nil would delete the key (or a whole node) silently.
    static func assign(_ node: CfgNode, _ key: String, _ value: LuaValue) throws {
        if case .nil = value, let old = node[key], old != .none {
            let what = { if case .node = old { return "a config node" } else { return "its default is \(old)" } }()
            throw LuaError.message("cfg.\(node.qualified(key)) = nil: config keys cannot be removed (\(what)); assign a value instead")
        }
        try node.set(key, try cfgFromLua(value, key: node.qualified(key)), coerceIntToFloat: true)
    }

    static func cfgFromLua(_ v: LuaValue, key: String) throws -> CfgValue {
        switch v {
        case .nil: return .none
        case .boolean(let b): return .bool(b)
        case .integer(let i): return .int(Int(i))
        case .number(let d): return .float(d)
        case .string(let s): return .string(s)
        case .table(let t):
            guard t.hash.isEmpty else { throw LuaError.message("\(key): config values are lists, not tables with keys") }
            return .list(try t.array.enumerated().map { try cfgFromLua($1, key: "\(key)[\($0 + 1)]") })
        case .object(let o):
            if let n = o as? CfgNode { return .node(n.clone()) }
            throw LuaError.message("\(key): a \(type(of: o)) cannot be a config value")
        case .reference(_, let type):
            throw LuaError.message("\(key): a \(type) cannot be a config value")
        }
    }

    static func installConfigModule(in state: LuaState) throws {
        try registerCfgNodeClass(in: state)
        try registerConfigModule(in: state)
    }

    static func registerCfgNodeClass(in state: LuaState) throws {
        try state.defineClass(CfgNode.self, name: "detectron2.config.CfgNode",
                              doc: "Detectron2's config: cfg.SOLVER.MAX_ITER = 500 is checked against the default's type; print(cfg) shows YAML.") { c in
            c.tostring { $0.dump() }
            c.help { node, member in member.map { node.helpText(key: $0) } ?? node.helpText() }
            c.completions { $0.keys }
            c.indexer(doc: "cfg.KEY reads a value or a sub-node; cfg.KEY = value sets it (same type as the default; integers are accepted for floats)",
                      includingNames: true, get: { n, call in
                guard call.type(2) == LUA_TSTRING, let key = try? call.string(2) else { return call.pushNil() }
                guard let v = n[key] else {
                    throw LuaError.message("Non-existent config key: \(n.qualified(key))\(n.suggestion(for: n.qualified(key)))")
                }
                return call.push(cfgToLua(v))
            }, set: { n, call in
                try assign(n, try call.string(2), try call.value(3))
            })
            c.method("merge_from_file", [LuaParameter("path", .string)], returns: "CfgNode", doc: "Merges a YAML config (its _BASE_ first); returns cfg.") { n, call in
                try n.mergeFromFile(try call.string(2))
                return call.push(object: n)
            }
            c.method("merge_from_list", [LuaParameter("list", .table)], returns: "CfgNode",
                     doc: "Merges {\"KEY.PATH\", value, ...}: strings are read as Python literals (\"(640, 800)\"), other values as they are.") { n, call in
                let items = try call.decode([LuaValue].self, 2)
                guard items.count % 2 == 0 else { throw call.argumentError(2, "merge_from_list needs KEY, value pairs") }
                for i in stride(from: 0, to: items.count, by: 2) {
                    guard case .string(let key) = items[i] else { throw call.argumentError(2, "item \(i + 1) must be a key string") }
                    let v: CfgValue
                    if case .string(let s) = items[i + 1] { v = CfgNode.literal(s) } else { v = try cfgFromLua(items[i + 1], key: key) }
                    try n.set(key, v, coerceIntToFloat: true)
                }
                return call.push(object: n)
            }
            c.method("clone", [], returns: "CfgNode", doc: "A deep, unfrozen copy.") { n, call in call.push(object: n.clone()) }
            c.method("freeze", [], returns: "CfgNode", doc: "Makes the config read-only.") { n, call in
                n.freeze()
                return call.push(object: n)
            }
            c.method("defrost", [], returns: "CfgNode", doc: "Makes a frozen config writable again.") { n, call in
                n.defrost()
                return call.push(object: n)
            }
            c.method("is_frozen", [], returns: "boolean", doc: "Whether assignments are refused.") { n, call in call.push(n.isFrozen) }
            c.method("dump", [], returns: "string", doc: "The config as YAML (sorted keys), as Detectron2's cfg.dump().") { n, call in call.push(n.dump()) }
            c.method("keys", [], returns: "table", doc: "The keys of this node, sorted.") { n, call in call.push(n.keys) }
            c.method("get", [LuaParameter("path", .string)], returns: "value", doc: "The value at a dotted path: cfg:get(\"SOLVER.BASE_LR\").") { n, call in
                call.push(cfgToLua(try n.value(at: try call.string(2))))
            }
            c.method("set", [LuaParameter("path", .string), LuaParameter("value", .any)], returns: "CfgNode",
                     doc: "Sets a dotted path: cfg:set(\"SOLVER.BASE_LR\", 0.0025).") { n, call in
                let path = try call.string(2)
                try assign(n, path, try call.value(3))
                return call.push(object: n)
            }
        }
    }

    static func registerConfigModule(in state: LuaState) throws {
        try state.defineModule("detectron2.config", doc: "Detectron2's configs: get_cfg() and CfgNode.") { m in
            m.function("get_cfg", [], returns: "CfgNode", doc: "A fresh copy of Detectron2's default config.") { call in
                call.push(object: CfgNode.defaults())
            }
        }
    }
}
