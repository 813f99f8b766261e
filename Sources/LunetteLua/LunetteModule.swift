import CLua
import LuaHost
import Torch
import Vision
import Glibc
import Detection

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
        try registerLunetteModule(in: state)
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

    static func registerLunetteModule(in state: LuaState) throws {
        try state.defineModule("lunette", doc: "The host: versions, timers.") { m in
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
                       doc: "JSON text of a Lua value (tables with only 1..n keys become arrays; others objects with sorted keys).") { call in
                var out: [UInt8] = []
                JSON.serialize(try jsonFromLua(try call.value(1), path: "value"), into: &out)
                return call.push(bytes: out)
            }
            m.function("json_decode", [LuaParameter("text", .string)], returns: "value",
                       doc: "The Lua value of JSON text (null becomes nil).") { call in
                let bytes = try call.bytes(1)
                do {
                    return call.push(luaFromJSON(try JSON.parse(bytes)))
                } catch let e as JSONError {
                    throw LuaError.message("invalid JSON: \(e.message)")
                }
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
        if t.hash.isEmpty && !t.array.isEmpty {
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
    case .array(let a): return .table(LuaTable(array: a.map(luaFromJSON)))
    case .object(let pairs):
        var t = LuaTable()
        for (k, x) in pairs where x != .null { t.hash[.string(k)] = luaFromJSON(x) }
        return .table(t)
    }
}
