import CLua
import LuaHost
import LunetteLua

/// One Lua state with every Lunette module installed, and the steps lua.c performs on it:
/// run a chunk, a file, a `-l` library, report an error. Used by the CLI and the REPL alike.
final class Session {
    let state: LuaState
    var L: OpaquePointer { state.L }
    let colorErrors: Bool

    init(scriptDirectory: String?) throws {
        state = try LuaState()
        colorErrors = Terminal.colorEnabled(fd: 2)
        try LunetteBindings.install(in: state)
        try setPackagePath(scriptDirectory: scriptDirectory)
        // The detectron2 package is documented from its files when loaded: load it now, so
        // help() lists it before a script requires it (nothing else happens on loading it).
        // It is also the global `d2`, the name every example gives it (`local d2 = require
        // "detectron2"` still works), so completion and help on `d2.` work from the first line.
        _ = try? state.evaluate("local ok, m = pcall(require, 'detectron2'); if ok and d2 == nil then d2 = m end", name: "=(lunette)")
    }

    func setPackagePath(scriptDirectory: String?) throws {
        let current = try state.evaluate("return package.path").first
        guard case .string(let defaultPath)? = current else { return }
        let path = Paths.packagePath(scriptDirectory: scriptDirectory, defaultPath: defaultPath)
        let setter = try state.load("package.path = ...", name: "=(lunette)")
        try state.call(setter, [.string(path)])
    }

    /// Prints an error value on top of the stack to stderr (lua.c's l_message) and pops it.
    func reportError(program: String?) {
        var len = 0
        let errorIndex = lua_gettop(L)
        defer { lua_settop(L, errorIndex - 1) }
        let message: String
        if let p = lh_tostring(L, -1, &len) {
            message = String(cString: p)
        } else if luaL_getmetafield(L, -1, "__tostring") != LUA_TNIL, lh_tostring_protected(L, -2, &len) != nil {
            // An error object with __tostring speaks for itself (as in lua.c).
            message = String(cString: lh_tostring(L, -1, &len))
        } else {
            message = "(error object is a \(String(cString: lua_typename(L, lua_type(L, errorIndex)))) value)"
        }
        let prefix = program.map { "\($0): " } ?? ""
        Console.err(Terminal.red(prefix + message, colorErrors) + "\n")
    }

    /// Runs the function below nargs arguments; reports an error and returns false on failure.
    func docall(nargs: Int32, nresults: Int32, program: String?, interruptible: Bool) -> Bool {
        LuaInterrupt.clear()
        let status = lh_docall(L, nargs, nresults, interruptible ? 1 : 0)
        if status != LUA_OK {
            reportError(program: program)
            return false
        }
        return true
    }

    /// Runs a chunk; `interruptible` lets Ctrl-C stop it at long work's safe points (a command
    /// such as `lunette detect`) instead of ending the process.
    func runString(_ code: String, name: String, program: String, interruptible: Bool = false) -> Bool {
        if state.pushLoaded(code, name: name) != LUA_OK {
            reportError(program: program)
            return false
        }
        return docall(nargs: 0, nresults: 0, program: program, interruptible: interruptible)
    }

    /// Runs a script file (nil: stdin) with its arguments, as a vararg chunk.
    func runFile(_ path: String?, arguments: [String], program: String) -> Bool {
        let status = luaL_loadfilex(L, path, nil)
        if status != LUA_OK {
            reportError(program: program)
            return false
        }
        for a in arguments { a.push(to: L, state: state) }
        return docall(nargs: Int32(arguments.count), nresults: 0, program: program, interruptible: false)
    }

    /// `-l mod` or `-l g=mod`: global g (or mod without a "-suffix") = require(mod).
    func requireLibrary(_ spec: String, program: String) -> Bool {
        var global = spec
        var module = spec
        if let eq = spec.firstIndex(of: "=") {
            global = String(spec[..<eq])
            module = String(spec[spec.index(after: eq)...])
        } else if let dash = spec.firstIndex(of: "-") {
            global = String(spec[..<dash])
        }
        lua_getglobal(L, "require")
        module.push(to: L, state: state)
        guard docall(nargs: 1, nresults: 1, program: program, interruptible: false) else { return false }
        lua_setglobal(L, global)
        return true
    }

    /// The global `arg` table as lua.c builds it: script at 0, its arguments at 1..n,
    /// the interpreter and options at negative indices.
    func setArgTable(argv: [String], scriptIndex: Int?) {
        let s = scriptIndex ?? 0
        lua_createtable(L, Int32(max(argv.count - s - 1, 0)), Int32(s + 1))
        for (i, a) in argv.enumerated() {
            a.push(to: L, state: state)
            lua_rawseti(L, -2, Int64(i - s))
        }
        lua_setglobal(L, "arg")
    }
}
