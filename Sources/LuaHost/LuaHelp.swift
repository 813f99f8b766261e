import CLua

/// help(x): documentation read from the registry, for a value or a dotted name.
extension LuaState {
    /// Help for the value at idx; `name` is the text the user typed (used when the value is nil).
    public func helpText(at idx: Int32, name: String?) -> String {
        let idx = lua_absindex(L, idx)
        if let spec = functionSpec(at: idx) { return help(for: spec) }
        if let cls = classSpec(at: idx) {
            if let describe = cls.findObjectHelp(), let box = lh_to_box(L, idx), let p = box.pointee.object,
               let text = describe(Unmanaged<AnyObject>.fromOpaque(p).takeUnretainedValue(), nil) {
                return text
            }
            return help(for: cls)
        }
        if let module = moduleSpec(at: idx) { return help(for: module) }
        if let name, let text = helpText(named: name) ?? memberHelp(dotted: name) { return text }
        switch lua_type(L, idx) {
        case LUA_TNONE:
            return overview()
        case LUA_TSTRING:
            let s = stringAt(L, idx)!
            return helpText(named: s) ?? memberHelp(dotted: s) ?? "No documentation for '\(s)'. Try help() for the list of modules."
        case LUA_TFUNCTION:
            var ar = lua_Debug()
            lua_pushvalue(L, idx)
            lua_getinfo(L, ">S", &ar)
            let source = String(cString: withUnsafePointer(to: &ar.short_src) { $0.withMemoryRebound(to: CChar.self, capacity: 60) { $0 } })
            if ar.linedefined > 0 {
                return "\(name ?? "function"): a Lua function defined at \(source):\(ar.linedefined)"
            }
            return "\(name ?? "function"): a built-in Lua function (see the Lua 5.4 manual)"
        default:
            let what = name.map { "'\($0)' (\(String(cString: lua_typename(L, lua_type(L, idx)))))" }
                ?? String(cString: lua_typename(L, lua_type(L, idx)))
            return "No documentation for \(what)."
        }
    }

    /// Help for `parent.member` where parent evaluates to an object whose class documents its
    /// members (cfg.SOLVER.BASE_LR: the config node cfg.SOLVER knows BASE_LR).
    func memberHelp(dotted name: String) -> String? {
        guard let dot = name.lastIndex(where: { $0 == "." || $0 == ":" }), dot != name.startIndex else { return nil }
        let parent = String(name[..<dot]), member = String(name[name.index(after: dot)...])
        guard !member.isEmpty, member.allSatisfy({ $0 == "_" || $0.isLetter || $0.isNumber }),
              case .object(let o)? = try? evaluate("return \(parent)", name: "=(help)").first,
              let id = try? classID(for: o), let describe = classes[id].findObjectHelp() else { return nil }
        return describe(o, member)
    }

    /// Help for a registered name: "torch.randn", "torch.Tensor", "torch.Tensor:size", "torch".
    public func helpText(named name: String) -> String? {
        if let f = registry.functions[name] { return help(for: f) }
        if let c = registry.classes[name] { return help(for: c) }
        if let m = registry.modules[name] { return help(for: m) }
        let dotted = name.replacingOccurrences(of: ":", with: ".")
        for c in registry.classes.values {
            for (methodName, f) in c.allMethods where "\(c.name).\(methodName)" == dotted { return help(for: f) }
            for (propertyName, p) in c.allProperties where "\(c.name).\(propertyName)" == dotted {
                return "\(c.name).\(propertyName): \(p.type)\(p.isSettable ? "" : " (read-only)")\n  \(p.doc)"
            }
        }
        for m in registry.modules.values {
            for (valueName, doc) in m.values where "\(m.name).\(valueName)" == name { return "\(name)\n  \(doc)" }
        }
        return nil
    }

    public func help(for f: LuaFunctionSpec) -> String {
        var lines = [f.signature] + f.doc.split(separator: "\n").map { "  " + $0 }
        if let parameters = f.parameters, !parameters.isEmpty {
            lines.append("  parameters:")
            for p in parameters {
                lines.append("    \(p.name): \(p.type)\(p.optional ? " (optional)" : "")")
            }
        }
        return lines.joined(separator: "\n")
    }

    public func help(for c: LuaClassSpec) -> String {
        var lines = ["class \(c.name)" + (c.parent.map { " (inherits \($0.name))" } ?? ""), "  " + c.doc]
        let methods = c.allMethods.sorted { $0.key < $1.key }
        if !methods.isEmpty {
            lines.append("  methods:")
            let nameWidth = methods.map { $0.value.signature.count }.max() ?? 0
            for (_, f) in methods {
                let sig = f.signature.replacingOccurrences(of: "\(c.name):", with: ":")
                lines.append("    " + sig.padding(toLength: max(nameWidth - c.name.count, sig.count), withPad: " ", startingAt: 0) + "  " + f.doc)
            }
        }
        let properties = c.allProperties.sorted { $0.key < $1.key }
        if !properties.isEmpty {
            lines.append("  properties:")
            for (name, p) in properties {
                lines.append("    .\(name): \(p.type)\(p.isSettable ? "" : " (read-only)")  \(p.doc)")
            }
        }
        let operators = c.allMetamethods.sorted { $0.key < $1.key }
        if !operators.isEmpty || c.effectiveIndexDoc != nil {
            lines.append("  operators:")
            if let indexing = c.effectiveIndexDoc { lines.append("    []  " + indexing) }
            for (event, f) in operators { lines.append("    \(event)  \(f.doc)") }
        }
        return lines.joined(separator: "\n")
    }

    public func help(for m: LuaModuleSpec) -> String {
        var lines = ["module \(m.name)"] + m.doc.split(separator: "\n").map { "  " + $0 }
        let entries: [(String, String)] = m.members.sorted().map { member in
            let full = "\(m.name).\(member)"
            // The first paragraph of each: help(member) shows the rest.
            func summary(_ doc: String) -> String { String(doc.split(separator: "\n").first ?? "") }
            if let f = registry.functions[full] { return (f.signature.replacingOccurrences(of: "\(m.name).", with: ""), summary(f.doc)) }
            if let sub = registry.modules[full] { return ("\(member) (module)", summary(sub.doc)) }
            if let c = registry.classes[full] { return ("\(member) (class)", summary(c.doc)) }
            return (member, summary(m.values[member] ?? ""))
        }
        let width = entries.map(\.0.count).max() ?? 0
        for (label, doc) in entries {
            lines.append("    " + label.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + doc)
        }
        return lines.joined(separator: "\n")
    }

    func overview() -> String {
        var lines = ["Lunette: Detectron2's workflow from Lua. help(x) or ?x documents any module, function, class or object.",
                     "Modules (local m = require \"name\"):"]
        let top = registry.modules.values.filter { !$0.name.contains(".") }.sorted { $0.name < $1.name }
        let width = top.map(\.name.count).max() ?? 0
        for m in top {
            lines.append("    " + m.name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + m.doc)
        }
        return lines.joined(separator: "\n")
    }
}

extension String {
    func replacingOccurrences(of target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var result = ""
        var rest = self[...]
        while let r = rest.range(of: target) {
            result += rest[..<r.lowerBound]
            result += replacement
            rest = rest[r.upperBound...]
        }
        return result + rest
    }

    func padding(toLength n: Int, withPad pad: String, startingAt: Int) -> String {
        count >= n ? self : self + String(repeating: pad, count: n - count)
    }
}

extension Substring {
    func range(of target: String) -> Range<Substring.Index>? {
        guard !target.isEmpty, count >= target.count else { return nil }
        var i = startIndex
        while i < endIndex {
            if self[i...].hasPrefix(target) { return i..<index(i, offsetBy: target.count) }
            i = index(after: i)
        }
        return nil
    }
}
