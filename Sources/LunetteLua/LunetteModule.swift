import CLua
import LuaHost
import Torch
import Vision
import Glibc
import Detection
import Foundation
import Support

/// A stopwatch for timing analysis steps from Lua.
public final class Stopwatch {
    private var start: timespec
    public init() { start = Stopwatch.now() }
    static func now() -> timespec {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return t
    }
    public var elapsed: Double {
        let t = Stopwatch.now()
        return Double(t.tv_sec - start.tv_sec) + Double(t.tv_nsec - start.tv_nsec) / 1e9
    }
    public func reset() { start = Stopwatch.now() }
}

extension LunetteBindings {
    static func installLunetteModule(in state: LuaState) throws {
        try registerTimerClass(in: state)
        let mode = PrintMode()
        try registerLunetteModule(in: state, printMode: mode)
        installPrint(in: state, mode: mode)
        installDisplay(in: state)
    }

    /// Whether print shows tables' contents (after lunette.pp was used), and whether the hint
    /// that it can was given; per Lua state.
    final class PrintMode {
        var pretty = false
        var hinted = false
    }

    /// Lua's print, except that a plain table is shown with its contents once lunette.pp was
    /// used, and before that with a one-time hint on stderr (Lua prints only its address).
    static func installPrint(in state: LuaState, mode: PrintMode) {
        state.pushFunction("print", nil, doc: "print(...): the values, tab-separated, as Lua's print; a list or map Lunette gave (metadata, tolist()) shows its contents, and any table does once lunette.pp was used.") { call in
            var parts: [String] = []
            for i in 1...max(call.count, 1) where call.count > 0 {
                let idx = Int32(i)
                if call.type(idx) == LUA_TTABLE, !hasToString(call.L, idx) {
                    // Tables Lunette hands out as lists or maps (marked) show their contents.
                    if mode.pretty || call.state.tableKind(at: idx) != nil {
                        parts.append(PrettyPrinter().render(call.state, at: idx))
                        continue
                    }
                    if !mode.hinted {
                        mode.hinted = true
                        Console.err("lunette: print shows a table as its address; lunette.pp(t) prints its contents (and from then on, print does too)\n")
                    }
                }
                parts.append(try call.state.tostring(at: idx))
            }
            Console.out(parts.joined(separator: "\t") + "\n")
            return 0
        }
        lua_setglobal(state.L, "print")
    }

    static func hasToString(_ L: OpaquePointer, _ idx: Int32) -> Bool { hasMetafield(L, idx, "__tostring") }

    /// Whether the value at idx can be called through its metatable (a callable table or object).
    static func hasCall(_ L: OpaquePointer, _ idx: Int32) -> Bool { hasMetafield(L, idx, "__call") }

    static func hasMetafield(_ L: OpaquePointer, _ idx: Int32, _ name: String) -> Bool {
        guard lua_getmetatable(L, idx) != 0 else { return false }
        lua_getfield(L, -1, name)
        let has = lua_type(L, -1) != LUA_TNIL
        lh_pop(L, 2)
        return has
    }

    static func registerTimerClass(in state: LuaState) throws {
        try state.defineClass(Stopwatch.self, name: "lunette.Timer", doc: "A stopwatch on the monotonic clock.") { c in
            c.method("elapsed", [], returns: "number", doc: "Seconds since the timer was made or last reset.") { t, call in
                call.push(t.elapsed)
            }
            c.method("reset", [], returns: "Timer", doc: "Restarts the timer from zero; returns it.") { t, call in
                t.reset()
                return call.push(object: t)
            }
            c.property("seconds", type: "number", doc: "Seconds elapsed (same as :elapsed()).") { t, call in
                call.push(t.elapsed)
            }
            c.tostring { t in "Timer(\(Double(Int(t.elapsed * 1000)) / 1000) s)" }
        }
    }

    static func registerLunetteModule(in state: LuaState, printMode: PrintMode) throws {
        try state.defineModule("lunette", doc: "The host: versions, timers, files (lunette.fs), JSON, pretty printing (lunette.pp).") { m in
            try m.value("version", .string(version), doc: "Lunette's version.")
            m.function("Timer", [], returns: "lunette.Timer", doc: "Starts a stopwatch: local t = lunette.Timer(); ...; print(t:elapsed()).") { call in
                call.push(object: Stopwatch())
            }
            m.function("versions", [], returns: "table", doc: "Versions of Lunette, Lua, libtorch and OpenCV, the thread count and whether CUDA is available.") { call in
                var table = LuaTable()
                table.hash[.string("lunette")] = .string(version)
                table.hash[.string("lua")] = .string(call.state.version)
                table.hash[.string("torch")] = .string(TorchRuntime.version)
                table.hash[.string("opencv")] = .string(VisionRuntime.version)
                table.hash[.string("threads")] = .integer(Int64(TorchRuntime.numThreads))
                table.hash[.string("cuda")] = .boolean(TorchRuntime.cudaIsAvailable)
                return call.push(.table(table))
            }
            m.function("json_encode", [LuaParameter("value", .any)], returns: "string",
                       doc: "JSON text of a Lua value: a table marked with lunette.array is an array (empty: []), one marked with lunette.map an object; other tables with only 1..n keys are arrays, the rest objects with sorted keys ({} is an object).") { call in
                var out: [UInt8] = []
                JSON.serialize(try jsonFromLua(try call.value(1), path: "value"), into: &out)
                return call.push(bytes: out)
            }
            m.function("json_decode", [LuaParameter("text", .string)], returns: "value",
                       doc: "The Lua value of JSON text (null becomes nil; arrays and objects come back marked, so json_encode gives the same text).") { call in
                let bytes = try call.bytes(1)
                do {
                    return call.push(luaFromJSON(try JSON.parse(bytes)))
                } catch let e as JSONError {
                    throw LuaError.message("invalid JSON: \(e.message)")
                }
            }
            for kind in [LuaTable.Kind.array, .map] {
                let what = kind == .array ? "a list (JSON writes it as an array, [] when empty)" : "a map (printed with its keys, JSON writes it as an object, {} when empty)"
                m.function(kind.rawValue, [LuaParameter("t", .table, optional: true)], returns: "table",
                           doc: "Marks a table (a new one without t) as \(what); returns it.") { call in
                    if call.isNone(1) { lh_newtable(call.L) } else { lua_pushvalue(call.L, 1) }
                    guard call.state.setKind(kind, ofTableAt: -1) else {
                        throw call.argumentError(1, "the table has a metatable of its own; it cannot be marked as \(kind.rawValue == "array" ? "a list" : "a map")")
                    }
                    return 1
                }
            }
            m.submodule("fs", doc: "Files and folders, with Python's os and glob names.") { fs in
                fs.function("exists", [LuaParameter("path", .string)], returns: "boolean", doc: "Whether a file or folder exists (os.path.exists).") { call in
                    call.push(FileManager.default.fileExists(atPath: try call.string(1)))
                }
                fs.function("isdir", [LuaParameter("path", .string)], returns: "boolean", doc: "Whether the path is a folder (os.path.isdir).") { call in
                    var isDir: ObjCBool = false
                    return call.push(FileManager.default.fileExists(atPath: try call.string(1), isDirectory: &isDir) && isDir.boolValue)
                }
                fs.function("isfile", [LuaParameter("path", .string)], returns: "boolean", doc: "Whether the path is a file (os.path.isfile).") { call in
                    var isDir: ObjCBool = false
                    return call.push(FileManager.default.fileExists(atPath: try call.string(1), isDirectory: &isDir) && !isDir.boolValue)
                }
                fs.function("makedirs", [LuaParameter("path", .string)], returns: "string",
                            doc: "Creates a folder and its parents; an existing folder is fine (os.makedirs(path, exist_ok=True)). Returns the path.") { call in
                    let path = try call.string(1)
                    guard !path.isEmpty else { throw call.argumentError(1, "the path is empty") }
                    var isDir: ObjCBool = false
                    if FileManager.default.fileExists(atPath: path, isDirectory: &isDir) {
                        guard isDir.boolValue else { throw LuaError.message("\(path) exists and is a file, not a folder") }
                        return call.push(path)
                    }
                    do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
                        throw LuaError.message("cannot create \(path): \(error.localizedDescription)")
                    }
                    return call.push(path)
                }
                fs.function("listdir", [LuaParameter("path", .string, optional: true)], returns: "table",
                            doc: "The names in a folder (default \".\"), sorted (os.listdir).") { call in
                    let path = try call.optionalString(1) ?? "."
                    do {
                        return call.push(.table(LuaTable(array: try FileManager.default.contentsOfDirectory(atPath: path).sorted().map { .string($0) }, kind: .array)))
                    } catch {
                        throw LuaError.message("\(path) is not a readable folder")
                    }
                }
                fs.function("glob", [LuaParameter("pattern", .string)], returns: "table",
                            doc: "The paths matching a pattern, sorted: * ? [abc] within a name, ** any folders (glob.glob(pattern, recursive=True)); fs.glob(\"images/**/*.jpg\").") { call in
                    call.push(.table(LuaTable(array: Glob.paths(try call.string(1)).map { .string($0) }, kind: .array)))
                }
            }
            m.function("suggest", [LuaParameter("name", .string), LuaParameter("names", .table)], returns: "string or nil",
                       doc: "The one of names closest to a misspelt name (the \"did you mean\" of every error), nil when none is close.") { call in
                if let s = Suggestion.closest(to: try call.string(1), among: try call.decode([String].self, 2)) { return call.push(s) }
                return call.pushNil()
            }
            m.function("pp", nil, returns: "",
                       doc: "Prints each value in the REPL's pretty form (tables with their contents); from then on print shows tables that way too. lunette.pp() only switches print.") { call in
                printMode.pretty = true
                guard call.count > 0 else { return 0 }
                Console.out((1...call.count).map { PrettyPrinter().render(call.state, at: Int32($0)) }.joined(separator: "\t") + "\n")
                return 0
            }
            m.function("identity", [LuaParameter("x", .any)], returns: "value",
                       doc: "Returns x unchanged: the cheapest Swift call, for measuring the Lua-to-Swift call cost.") { call in
                lua_pushvalue(call.L, 1)
                return 1
            }
            m.function("sleep", [LuaParameter("seconds", .number)], doc: "Sleeps (interruptible by Ctrl-C).") { call in
                let seconds = try call.number(1)
                let timer = Stopwatch()
                while timer.elapsed < seconds {
                    if LuaInterrupt.isRequested { throw LuaError.message("interrupted!") }
                    usleep(useconds_t(min(20_000, max(0, (seconds - timer.elapsed) * 1e6))))
                }
                return 0
            }
        }
    }
}

/// Lua values to JSON: sequences become arrays, other tables objects (keys sorted for stable output).
func jsonFromLua(_ v: LuaValue, path: String) throws -> JSONValue {
    switch v {
    case .nil: return .null
    case .boolean(let b): return .bool(b)
    case .integer(let i): return .int(i)
    case .number(let d):
        guard d.isFinite else { throw LuaError.message("\(path) is \(d), which JSON cannot hold") }
        return .double(d)
    case .string(let s): return .string(s)
    case .table(let t):
        if t.kind == .array {
            if let key = t.hash.keys.sorted().first { throw LuaError.message("\(path) is marked as a list but has the key \(key)") }
            return .array(try t.array.enumerated().map { try jsonFromLua($1, path: "\(path)[\($0 + 1)]") })
        }
        if t.kind != .map && t.hash.isEmpty && !t.array.isEmpty {
            return .array(try t.array.enumerated().map { try jsonFromLua($1, path: "\(path)[\($0 + 1)]") })
        }
        if t.isEmpty { return .object([]) }
        var pairs: [(String, JSONValue)] = []
        for (i, item) in t.array.enumerated() { pairs.append((String(i + 1), try jsonFromLua(item, path: "\(path)[\(i + 1)]"))) }
        for key in t.hash.keys.sorted() {
            let name: String
            switch key {
            case .string(let s): name = s
            case .integer(let i): name = String(i)
            default: throw LuaError.message("\(path) has a \(key) key, which JSON objects cannot hold")
            }
            pairs.append((name, try jsonFromLua(t.hash[key]!, path: "\(path).\(name)")))
        }
        return .object(pairs)
    default:
        throw LuaError.message("\(path) is a \(v.typeName), which JSON cannot hold")
    }
}

func luaFromJSON(_ v: JSONValue) -> LuaValue {
    switch v {
    case .null: return .nil
    case .bool(let b): return .boolean(b)
    case .int(let i): return .integer(i)
    case .double(let d): return .number(d)
    case .string(let s): return .string(s)
    case .array(let a): return .table(LuaTable(array: a.map(luaFromJSON), kind: .array))
    case .object(let pairs):
        var t = LuaTable(kind: .map)
        for (k, x) in pairs where x != .null { t.hash[.string(k)] = luaFromJSON(x) }
        return .table(t)
    }
}
