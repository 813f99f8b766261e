import CLua
import LuaHost
import Torch
import Vision
import Glibc

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
        let timer = try state.defineClass(Stopwatch.self, name: "lunette.Timer", doc: "A stopwatch on the monotonic clock.") { c in
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
        _ = timer
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
