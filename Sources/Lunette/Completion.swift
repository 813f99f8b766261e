import CLua
import CReadline
import Glibc
import LuaHost

/// Tab completion over globals, table fields (following __index tables) and the `.`/`:`
/// members of Lua-visible Swift classes, as the registry lists them. Reads tables raw, so
/// completing never runs user code.
enum Completion {
    nonisolated(unsafe) static var session: Session?

    static func install(session: Session) {
        Completion.session = session
        lr_setup("lunette", completeForReadline)
    }

    static func commonPrefix(_ words: [String]) -> String {
        guard var prefix = words.first.map(Array.init) else { return "" }
        for w in words.dropFirst() {
            let a = Array(w)
            var n = 0
            while n < prefix.count, n < a.count, prefix[n] == a[n] { n += 1 }
            prefix = Array(prefix[0..<n])
        }
        return String(prefix)
    }

    /// Completions of a word such as "torch.ra", "t:si" or "pri", given the text of the line
    /// before it: a dataset name inside DatasetCatalog.get(" (or MetadataCatalog.get, or a
    /// loader's dataset argument), any registered name after "?".
    static func candidates(for word: String, before: String = "", in state: LuaState) -> [String] {
        if let quote = before.last, quote == "\"" || quote == "'" {
            let call = before.dropLast().trimmingCharacters(in: .whitespaces)
            let takesDataset = ["DatasetCatalog.get(", "MetadataCatalog.get(", "DatasetCatalog.remove(", "MetadataCatalog.remove(",
                                "build_detection_test_loader(cfg,", "COCOEvaluator(", "presence(", "confusion_matrix("]
            guard takesDataset.contains(where: { call.hasSuffix($0) || call.replacingOccurrences(of: " ", with: "").hasSuffix($0) }) else { return [] }
            let listed = try? state.evaluate("return require('detectron2.data').DatasetCatalog.list()", name: "=(completion)").first
            guard case .table(let t)? = listed else { return [] }
            return t.array.compactMap { if case .string(let s) = $0, s.hasPrefix(word) { return s }; return nil }
        }
        if word.hasPrefix("?") {
            let rest = String(word.dropFirst())
            let registered = Set(state.registry.functions.keys).union(state.registry.modules.keys).union(state.registry.classes.keys)
                .filter { $0.hasPrefix(rest) && !$0.hasPrefix("(") }
            return Set(candidates(for: rest, in: state)).union(registered).sorted().map { "?" + $0 }
        }
        return values(for: word, in: state)
    }

    /// Completions through globals, tables and objects.
    static func values(for word: String, in state: LuaState) -> [String] {
        let L = state.L
        let top = lua_gettop(L)
        defer { lua_settop(L, top) }
        let separatorIndex = word.lastIndex { $0 == "." || $0 == ":" }
        let prefix = separatorIndex.map { String(word[...$0]) } ?? ""
        let partial = separatorIndex.map { String(word[word.index(after: $0)...]) } ?? word
        let methodCall = separatorIndex.map { word[$0] == ":" } ?? false

        lua_rawgeti(L, lh_registryindex(), Int64(LUA_RIDX_GLOBALS))
        var names: Set<String> = []
        if let separatorIndex {
            let path = word[..<separatorIndex].split(separator: ".", omittingEmptySubsequences: false)
            for segment in path {
                guard !segment.isEmpty else { return [] }
                if state.classSpec(at: -1) != nil {
                    // An object of a registered class: its __index is Swift (a property or a
                    // config node's key), never user code.
                    guard let child = state.member(String(segment), ofObjectAt: -1) else { return [] }
                    lh_pop(L, 1)
                    state.push(child)
                    continue
                }
                guard lua_type(L, -1) == LUA_TTABLE else { return [] }
                String(segment).push(to: L, state: state)
                rawGetFollowingIndex(L)
            }
            if let cls = state.classSpec(at: -1) {
                names.formUnion(cls.allMethods.keys)
                if !methodCall {
                    names.formUnion(cls.allProperties.keys)
                    names.formUnion(state.memberNames(ofObjectAt: -1))
                }
            } else if lua_type(L, -1) == LUA_TSTRING, methodCall {
                lua_getglobal(L, "string")
                tableKeys(L, into: &names)
            } else if lua_type(L, -1) == LUA_TTABLE {
                tableKeys(L, into: &names)
            } else {
                return []
            }
        } else {
            tableKeys(L, into: &names)
            names.formUnion(luaKeywords)
        }
        return names.filter { $0.hasPrefix(partial) && !$0.hasPrefix("__") }.sorted().map { prefix + $0 }
    }

    /// Replaces the table and key on top with table[key], looked up raw and then through
    /// __index tables (never functions).
    private static func rawGetFollowingIndex(_ L: OpaquePointer) {
        for _ in 0..<8 {
            lua_pushvalue(L, -1)
            lua_rawget(L, -3)
            if lua_type(L, -1) != LUA_TNIL {
                lh_remove(L, -2)
                lh_remove(L, -2)
                return
            }
            lh_pop(L, 1)
            guard lua_getmetatable(L, -2) != 0 else { break }
            if lua_rawgetp_index(L) != LUA_TTABLE { lh_pop(L, 2); break }
            lh_remove(L, -2)      // metatable
            lh_replace(L, -3)     // the __index table replaces the table
        }
        lh_pop(L, 2)
        lua_pushnil(L)
    }

    /// Reads metatable.__index raw (metatable on top); pushes it and returns its type.
    private static func lua_rawgetp_index(_ L: OpaquePointer) -> Int32 {
        "__index".push(to: L, state: Completion.session!.state)
        return lua_rawget(L, -2)
    }

    /// Adds the identifier-like string keys of the table on top, and of its __index tables.
    private static func tableKeys(_ L: OpaquePointer, into names: inout Set<String>) {
        var depth = 0
        lua_pushvalue(L, -1)
        while lua_type(L, -1) == LUA_TTABLE && depth < 8 {
            let t = lua_gettop(L)
            lua_pushnil(L)
            while lua_next(L, t) != 0 {
                lh_pop(L, 1)
                if lua_type(L, -1) == LUA_TSTRING {
                    var len = 0
                    if let p = lua_tolstring(L, -1, &len) { names.insert(String(cString: p)) }
                }
            }
            guard lua_getmetatable(L, t) != 0 else { break }
            _ = lua_rawgetp_index(L)
            lh_remove(L, -2)
            lh_remove(L, -2)
            depth += 1
        }
        lh_pop(L, 1)
    }
}

/// readline's completion entry: [common prefix, candidates..., NULL], all malloc'ed.
private func completeForReadline(_ text: UnsafePointer<CChar>?, _ line: UnsafePointer<CChar>?, _ start: Int32) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? {
    guard let text, let session = Completion.session else { return nil }
    let before = line.map { String(decoding: UnsafeBufferPointer(start: UnsafeRawPointer($0).assumingMemoryBound(to: UInt8.self), count: Int(max(0, min(start, Int32(strlen($0)))))), as: UTF8.self) } ?? ""
    let candidates = Completion.candidates(for: String(cString: text), before: before, in: session.state)
    if candidates.isEmpty { return nil }
    let array = malloc((candidates.count + 2) * MemoryLayout<UnsafeMutablePointer<CChar>?>.stride)!
        .bindMemory(to: UnsafeMutablePointer<CChar>?.self, capacity: candidates.count + 2)
    if candidates.count == 1 {
        array[0] = strdup(candidates[0])
        array[1] = nil
        return array
    }
    array[0] = strdup(Completion.commonPrefix(candidates))
    for (i, c) in candidates.enumerated() { array[i + 1] = strdup(c) }
    array[candidates.count + 1] = nil
    return array
}
