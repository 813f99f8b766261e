import CLua
import CReadline
import Glibc
import LuaHost

/// The read-eval-print loop, step by step as lua.c does it: read a line, try it as an
/// expression, else as a statement, ask for more while the chunk is incomplete, run it
/// protected (Ctrl-C stops it), print the results.
final class REPL {
    let session: Session
    var L: OpaquePointer { session.L }
    let interactive: Bool
    let color: Bool
    let history = Paths.historyFile

    init(session: Session) {
        self.session = session
        interactive = Terminal.isTTY(0)
        color = Terminal.colorEnabled(fd: 1)
    }

    func run() -> Int32 {
        if interactive {
            Completion.install(session: session)
            _ = lr_read_history(history)
            Console.out("Type help() for help, ?name for the docs of a name, Ctrl-D to leave.\n")
        }
        while let chunk = readChunk() {
            if chunk.isEmpty { continue }
            evaluate(chunk)
        }
        if interactive {
            Console.out("\n")
            _ = lr_write_history(history, 1000)
        }
        return 0
    }

    // MARK: reading

    private func prompt(_ continuation: Bool) -> String {
        let name = continuation ? "_PROMPT2" : "_PROMPT"
        lua_getglobal(L, name)
        defer { lh_pop(L, 1) }
        if lua_type(L, -1) != LUA_TNIL, let s = stringAt(-1) { return s }
        let p = continuation ? ">> " : "> "
        // Readline needs invisible characters bracketed by \001 and \002 to measure the prompt.
        return color ? "\u{1}\u{1B}[1;34m\u{2}\(p)\u{1}\u{1B}[0m\u{2}" : p
    }

    private func stringAt(_ idx: Int32) -> String? {
        var len = 0
        guard let p = lh_tostring(L, idx, &len) else { return nil }
        return String(cString: p)
    }

    enum Line { case text(String), interrupted, end }

    private func readLine(continuation: Bool) -> Line {
        let p = prompt(continuation)
        if interactive {
            var interrupted: Int32 = 0
            guard let raw = lr_readline(p, &interrupted) else { return .end }
            defer { free(raw) }
            if interrupted != 0 { return .interrupted }
            return .text(String(cString: raw))
        }
        Console.out(p)
        guard let line = Swift.readLine(strippingNewline: true) else { return .end }
        return .text(line)
    }

    /// Reads one complete chunk (several lines while Lua says the input ended too early).
    /// Returns "" after Ctrl-C, nil at end of input.
    private func readChunk() -> String? {
        var buffer: String
        switch readLine(continuation: false) {
        case .end: return nil
        case .interrupted: return ""
        case .text(let line): buffer = line
        }
        while isIncomplete(buffer) {
            switch readLine(continuation: true) {
            case .text(let more): buffer += "\n" + more
            case .interrupted: return ""
            case .end: return buffer
            }
        }
        if interactive, !buffer.allSatisfy(\.isWhitespace) { lr_add_history(buffer) }
        return buffer
    }

    // MARK: compiling

    /// Whether code compiles, and the message when it does not; leaves the stack as it was.
    private func compile(_ code: String) -> (ok: Bool, message: String) {
        let status = session.state.pushLoaded(code, name: "=stdin")
        let message = status == LUA_OK ? "" : (stringAt(-1) ?? "")
        lh_pop(L, 1)
        return (status == LUA_OK, message)
    }

    /// lua.c's rule: a chunk is incomplete when it fails as a statement with "<eof>" at the end.
    func isIncomplete(_ buffer: String) -> Bool {
        let trimmed = buffer.trimmingSpaces
        if trimmed.isEmpty || trimmed.hasPrefix("?") { return false }
        if compile(expressionForm(trimmed).code).ok { return false }
        let (ok, message) = compile(LocalRewriter.rewrite(trimmed))
        return !ok && message.hasSuffix("<eof>")
    }

    private func expressionForm(_ code: String) -> (code: String, silent: Bool) {
        var code = code
        if code.hasPrefix("=") { code.removeFirst() }
        let silent = code.hasSuffix(";")
        if silent { code.removeLast() }
        return ("return " + code + ";", silent)
    }

    // MARK: evaluating

    func evaluate(_ raw: String) {
        let chunk = raw.trimmingSpaces
        if chunk.hasPrefix("?") {
            let name = String(chunk.dropFirst()).trimmingSpaces
            help(name)
            return
        }
        let (expression, silent) = expressionForm(chunk)
        let base = lua_gettop(L)
        if session.state.pushLoaded(expression, name: "=stdin") != LUA_OK {
            // A statement: its results (from a `return`) are printed too, as lua.c does.
            lh_pop(L, 1)
            if session.state.pushLoaded(LocalRewriter.rewrite(chunk), name: "=stdin") != LUA_OK {
                session.reportError(program: nil)
                return
            }
        }
        guard session.docall(nargs: 0, nresults: LUA_MULTRET, program: nil, interruptible: true) else { return }
        let top = lua_gettop(L)
        if !silent && top > base {
            let printer = PrettyPrinter(color: color, width: Terminal.width)
            let rendered = ((base + 1)...top).map { printer.render(session.state, at: $0) }
            Console.out(rendered.joined(separator: "\t") + "\n")
        }
        lua_settop(L, base)
    }

    /// `?name`: help for the value the name evaluates to, or for the name itself.
    private func help(_ name: String) {
        let code = name.isEmpty ? "help()"
            : "local ok, v = pcall(function() return \(name) end); help(ok and v or nil, \(quoteLua(name)))"
        if session.state.pushLoaded(code, name: "=stdin") != LUA_OK {
            lh_pop(L, 1)
            _ = session.runString("help(\(quoteLua(name)))", name: "=stdin", program: "")
            return
        }
        if !session.docall(nargs: 0, nresults: 0, program: nil, interruptible: true) {}
    }

    private func quoteLua(_ s: String) -> String {
        "\"" + s.replacingOccurrences("\\", "\\\\").replacingOccurrences("\"", "\\\"") + "\""
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }

    func replacingOccurrences(_ a: String, _ b: String) -> String {
        split(separator: a, omittingEmptySubsequences: false).joined(separator: b)
    }
}
