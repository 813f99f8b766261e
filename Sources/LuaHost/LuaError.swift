import CLua
import Support

/// An error crossing the Lua boundary, in either direction.
public enum LuaError: Error, CustomStringConvertible {
    /// A message; raised into Lua as a string with the caller's "chunk:line:" prefixed.
    case message(String)
    /// A Lua error value (a table, say) passing through Swift unchanged.
    case value(LuaRef, description: String)
    /// A bad argument: the 1-based position as the caller counts it, and what was wrong.
    case argument(position: Int, problem: String)

    public var description: String {
        switch self {
        case .message(let m): return m
        case .value(_, let d): return d
        case .argument(let p, let problem): return "bad argument #\(p) (\(problem))"
        }
    }
}

/// Converts any Swift error into a LuaError, keeping Lua error values intact.
func asLuaError(_ error: Error) -> LuaError {
    if let e = error as? LuaError { return e }
    // Long work that stopped on request reports it once, as this error; the request is done.
    if error is Stopped { LongWork.acknowledge() }
    return .message(String(describing: error))
}

/// The process-wide interrupt request: set by Ctrl-C while Lua code runs in the REPL.
/// Long Swift primitives poll it between steps and stop cleanly.
public enum LuaInterrupt {
    public static var isRequested: Bool { lh_interrupt_requested() != 0 }
    public static func request() { lh_request_interrupt() }
    public static func clear() { lh_clear_interrupt_request() }
}

/// Output through C's stdio, so it interleaves correctly with Lua's print and io.write.
public enum Console {
    public static func out(_ s: String) {
        var s = s
        s.withUTF8 { b in b.withMemoryRebound(to: CChar.self) { lh_write_stdout($0.baseAddress, $0.count) } }
    }
    public static func err(_ s: String) {
        var s = s
        s.withUTF8 { b in b.withMemoryRebound(to: CChar.self) { lh_write_stderr($0.baseAddress, $0.count) } }
    }
}
