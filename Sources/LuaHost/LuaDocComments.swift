import CLua
import Foundation

/// Lua modules document themselves with `---` comments, as LuaLS and LDoc read them: the
/// comment lines at the top of a module file are the module's documentation, and `---` lines
/// just above `function M.name(params)` (or `M.name = ...`) document that member. When
/// `require` loads a module from a file, its documentation joins the same registry as the
/// Swift-defined names, so help(x), ?x and completion treat both alike.
extension LuaState {
    /// One documented member, as read from the source.
    public struct LuaDocEntry {
        public let name: String
        public let parameters: [String]?
        public let doc: String
    }

    /// The module doc and the documented members of a Lua source.
    public static func docComments(in source: String) -> (module: String, members: [LuaDocEntry]) {
        let lines = source.split(separator: "\n", omittingEmptySubsequences: false).map { String($0) }
        var i = 0
        // The file's opening comment (skipping a #! line): the module's documentation.
        if i < lines.count, lines[i].hasPrefix("#!") { i += 1 }
        var moduleLines: [String] = []
        while i < lines.count, lines[i].hasPrefix("--"), !lines[i].hasPrefix("---"), !lines[i].hasPrefix("--[[") {
            moduleLines.append(commentText(lines[i], marker: "--"))
            i += 1
        }
        // Wrapped comment lines are one paragraph; an empty comment line starts the next.
        func prose(_ lines: [String]) -> String {
            lines.split(separator: "", omittingEmptySubsequences: true).map { $0.map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ") }
                .joined(separator: "\n")
        }
        var members: [LuaDocEntry] = []
        var pending: [String] = []
        for line in lines[i...] {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("---") {
                pending.append(commentText(trimmed, marker: "---"))
                continue
            }
            defer { if !trimmed.hasPrefix("--") { pending = [] } }
            guard !pending.isEmpty, !trimmed.hasPrefix("--") else { continue }
            if let entry = declaration(trimmed, doc: prose(pending)) {
                members.append(entry)
            }
        }
        return (prose(moduleLines), members)
    }

    private static func commentText(_ line: String, marker: String) -> String {
        var text = line.dropFirst(marker.count)
        if text.hasPrefix(" ") { text = text.dropFirst() }
        return String(text)
    }

    /// `function M.name(a, b)`, `function M:name(a)`, `M.name = function(a)` or `M.name = value`
    /// (the module table's own name, whatever it is called); nil for anything else.
    private static func declaration(_ line: String, doc: String) -> LuaDocEntry? {
        func parameters(_ s: Substring) -> [String]? {
            guard let open = s.firstIndex(of: "("), let close = s[open...].firstIndex(of: ")") else { return nil }
            return s[s.index(after: open)..<close].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        func memberName(_ s: Substring) -> String? {
            // "M.name" or "M:name": the part after the last '.' or ':'.
            guard let sep = s.lastIndex(where: { $0 == "." || $0 == ":" }) else { return nil }
            let name = s[s.index(after: sep)...]
            guard !name.isEmpty, name.allSatisfy({ $0 == "_" || $0.isLetter || $0.isNumber }) else { return nil }
            return String(name)
        }
        if line.hasPrefix("function ") {
            let rest = line.dropFirst("function ".count)
            guard let open = rest.firstIndex(of: "("), let name = memberName(rest[..<open]) else { return nil }
            return LuaDocEntry(name: name, parameters: parameters(rest[open...]), doc: doc)
        }
        guard !line.hasPrefix("local "), let eq = line.firstIndex(of: "="), line[line.index(after: eq)...].first != "=" else { return nil }
        guard let name = memberName(line[..<eq].trimmingCharacters(in: .whitespaces)[...]) else { return nil }
        let value = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
        return LuaDocEntry(name: name, parameters: value.hasPrefix("function") ? parameters(value[...]) : nil, doc: doc)
    }

    /// Registers the documentation of a module loaded from `path` under `name`, for the table
    /// at idx: the module, and each documented function (found again by its value).
    func documentLuaModule(name: String, path: String, tableAt idx: Int32) {
        let idx = lua_absindex(L, idx)
        guard lua_type(L, idx) == LUA_TTABLE, registry.modules[name] == nil,
              let source = try? String(contentsOfFile: path, encoding: .utf8) else { return }
        var (moduleDoc, entries) = LuaState.docComments(in: source)
        // "detectron2.model_zoo: the model-zoo configs ..." reads as "The model-zoo configs ...".
        if moduleDoc.hasPrefix(name + ": ") {
            let rest = moduleDoc.dropFirst(name.count + 2)
            moduleDoc = rest.prefix(1).uppercased() + rest.dropFirst()
        }
        let spec = LuaModuleSpec(name: name, doc: moduleDoc.isEmpty ? "A Lua module (\(path))." : moduleDoc)
        spec.tableIdentity = lua_topointer(L, idx)
        // Keep the table (and so its functions) alive: their identities stay theirs.
        lua_pushvalue(L, idx)
        _ = luaL_ref(L, lh_registryindex())
        let documented = Dictionary(entries.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        lua_pushnil(L)
        while lua_next(L, idx) != 0 {
            defer { lh_pop(L, 1) }
            guard let member = stringAt(L, -2) else { continue }
            spec.members.append(member)
            let full = "\(name).\(member)"
            if lua_type(L, -1) == LUA_TFUNCTION, functionSpec(at: -1) == nil {
                let entry = documented[member]
                let f = LuaFunctionSpec(name: full, parameters: entry?.parameters.map { $0.map { LuaParameter($0, .any) } },
                                        returns: "", doc: entry?.doc ?? "", isMethod: false) { _ in 0 }
                registry.add(f)
                if let p = lua_topointer(L, -1) { luaFunctionDocs[p] = f }
            } else if lua_type(L, -1) == LUA_TTABLE, moduleSpec(at: -1) == nil {
                spec.values[member] = documented[member]?.doc ?? ""
            } else if lua_type(L, -1) != LUA_TTABLE && lua_type(L, -1) != LUA_TFUNCTION {
                spec.values[member] = documented[member]?.doc ?? ""
            }
        }
        spec.members.sort()
        registry.add(spec)
    }

    /// A Swift function that documents each module require loads from a file, installed as the
    /// loader wrapper's hook.
    func installModuleDocumenter() {
        pushFunctionSpec(LuaFunctionSpec(name: "(document module)", parameters: nil, returns: "",
                                         doc: "Registers the --- documentation of a module require loaded from a file.", isMethod: false) { call in
            guard let name = try? call.string(1), let path = try? call.string(2) else { return 0 }
            call.state.documentLuaModule(name: name, path: path, tableAt: 3)
            return 0
        })
        lua_setglobal(L, "__lunette_document")
    }
}
