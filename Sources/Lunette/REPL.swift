import CLua
import CReadline
import Glibc
import Foundation
import LuaHost
import Notebook
import Support

/// The read-eval-print loop, step by step as lua.c does it: read a line, try it as an
/// expression, else as a statement, ask for more while the chunk is incomplete, run it
/// protected (Ctrl-C stops it), print the results.
final class REPL {
    let session: Session
    var L: OpaquePointer { session.L }
    let interactive: Bool
    let color: Bool
    let history = Paths.historyFile
    /// What was entered, in order, and whether it ran: `:save` writes these as a notebook.
    private(set) var entries: [(source: String, ok: Bool)] = []

    init(session: Session) {
        self.session = session
        interactive = Terminal.isTTY(0)
        color = Terminal.colorEnabled(fd: 1)
    }

    func run() -> Int32 {
        if interactive {
            Completion.install(session: session)
            _ = lr_read_history(history)
            Console.out("Type help() for help, ?name for the docs of a name, :help for the session's commands, Ctrl-D to leave.\n")
        }
        while let chunk = readChunk() {
            if chunk.isEmpty { continue }
            if Self.isCommand(chunk) { command(chunk.trimmingSpaces); continue }
            let ok = evaluate(chunk)
            if !chunk.trimmingSpaces.hasPrefix("?") { entries.append((chunk, ok)) }
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
        CellRunner.completeness(of: buffer, compiles: compile) == .incomplete
    }

    private func expressionForm(_ code: String) -> (code: String, silent: Bool) {
        var code = code
        if code.hasPrefix("=") { code.removeFirst() }
        let silent = code.hasSuffix(";")
        if silent { code.removeLast() }
        return ("return " + code + ";", silent)
    }

    // MARK: evaluating

    /// Runs an entry and prints its results; whether it ran without an error.
    @discardableResult
    func evaluate(_ raw: String) -> Bool {
        let chunk = raw.trimmingSpaces
        if chunk.hasPrefix("?") {
            let name = String(chunk.dropFirst()).trimmingSpaces
            help(name)
            return true
        }
        let (expression, silent) = expressionForm(chunk)
        let base = lua_gettop(L)
        if session.state.pushLoaded(expression, name: "=stdin") != LUA_OK {
            // A statement: its results (from a `return`) are printed too, as lua.c does.
            lh_pop(L, 1)
            if session.state.pushLoaded(LocalRewriter.rewrite(chunk), name: "=stdin") != LUA_OK {
                session.reportError(program: nil)
                return false
            }
        }
        guard session.docall(nargs: 0, nresults: LUA_MULTRET, program: nil, interruptible: true) else { return false }
        let top = lua_gettop(L)
        if !silent && top > base {
            let printer = PrettyPrinter(color: color, width: Terminal.width)
            let rendered = ((base + 1)...top).map { printer.render(session.state, at: $0) }
            Console.out(rendered.joined(separator: "\t") + "\n")
        }
        lua_settop(L, base)
        return true
    }

    // MARK: session commands

    /// `:save`, `:run`, `:help` (a Lua chunk never starts with one colon; `::label::` is Lua's).
    static func isCommand(_ chunk: String) -> Bool {
        let t = chunk.trimmingSpaces
        return t.hasPrefix(":") && !t.hasPrefix("::")
    }

    static let commandHelp = """
    :save FILE.lua   write this session's entries as a -- %% notebook (one cell each; failed entries left out)
    :run NB.lua      run a notebook's code cells here, in this session (also an .ipynb)
    :help            this list

    """

    func command(_ line: String) {
        let parts = line.dropFirst().split(separator: " ", maxSplits: 1).map { String($0).trimmingSpaces }
        let name = parts.first ?? ""
        let argument = parts.count > 1 ? parts[1] : ""
        switch name {
        case "save":
            guard !argument.isEmpty else { return complain(":save needs a file name (:save session.lua)") }
            let kept = entries.filter(\.ok)
            let failed = entries.count - kept.count
            let nb = Notebook(cells: kept.map { Cell(kind: .code, source: $0.source.trimmingSpaces) })
            do {
                try AtomicFile.write(PercentFormat.render(nb), to: argument)
            } catch {
                return complain("cannot save \(argument): \(error)")
            }
            Console.out("saved \(kept.count) entr\(kept.count == 1 ? "y" : "ies") to \(argument)\(failed > 0 ? " (\(failed) that failed left out)" : "")\n")
        case "run":
            guard !argument.isEmpty else { return complain(":run needs a notebook (:run analysis.lua)") }
            runNotebook(argument)
        case "help", "?", "":
            Console.out(Self.commandHelp)
        default:
            complain("unknown command :\(name)\n" + Self.commandHelp)
        }
    }

    private func complain(_ message: String) {
        Console.err(Terminal.red(message, session.colorErrors) + "\n")
    }

    /// `:run NB`: each code cell as an entry of this session, its last value printed; the first
    /// failing cell stops it.
    private func runNotebook(_ path: String) {
        let nb: Notebook
        do { nb = try NotebookCommand.load(path) } catch { return complain("\(error)") }
        let runner = CellRunner(session: session)
        let printer = PrettyPrinter(color: color, width: Terminal.width)
        let code = nb.cells.enumerated().filter { $0.element.kind == .code }
        lh_count_sigint_between_calls()     // Ctrl-C between two cells stops the run, not the REPL
        let sigints = lh_sigint_count()
        for (n, (i, c)) in code.enumerated() {
            if lh_sigint_count() != sigints { return complain(":run \(path): stopped by Ctrl-C before cell \(i + 1)") }
            switch runner.run(cell: c, of: path, number: n + 1, printer: printer) {
            case .values(let values):
                if !values.isEmpty { Console.out(values.map(\.plain).joined(separator: "\t") + "\n") }
                entries.append((c.source, true))
            case .failed(let f):
                complain(f.traceback.joined(separator: "\n"))
                complain(":run \(path): stopped at cell \(i + 1)\(c.title.map { " (\($0))" } ?? ""); \(code.count - n - 1) cell\(code.count - n - 1 == 1 ? "" : "s") after it not run")
                return
            }
        }
        Console.out("ran \(code.count) cell\(code.count == 1 ? "" : "s") of \(path)\n")
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
