import CLua
import Foundation
import Glibc
import LuaHost
import LunetteLua
import Notebook

/// Runs a notebook cell in a session as the REPL runs an entry: top-level `local`s stay
/// visible in later cells, and the value of the cell's last expression is its result (a
/// trailing `;` silences it). Shared by `lunette notebook run`, the REPL's `:run` and the kernel.
struct CellRunner {
    let session: Session
    var L: OpaquePointer { session.L }

    struct Failure: Error {
        var name: String
        var value: String
        var traceback: [String]
    }

    enum Outcome {
        /// The results of the last expression (or of a `return`), nils left out when all are nil.
        case values([RichValue])
        case failed(Failure)
    }

    /// The chunk to run: statements, then `return <last expression>` when the cell ends with one.
    static func chunk(for source: String, compiles: (String) -> Bool) -> String {
        let lines = source.split(separator: "\n", omittingEmptySubsequences: false)
        var tokens = LuaLexer(Array(source.utf8))
        guard let last = tokens.tokens().last, last.word != ";" else { return LocalRewriter.rewrite(source) }
        // When the whole cell is already statements, a tail is split off only if it is a statement
        // on its own too (a call): `local cfg = mk` then `{ lr = 0.1 }` is one call, not a result.
        let whole = compiles(LocalRewriter.rewrite(source))
        // From the last line up: the shortest tail that is an expression, after statements that compile.
        for i in stride(from: lines.count - 1, through: 0, by: -1) {
            let tail = lines[i...].joined(separator: "\n")
            var lexer = LuaLexer(Array(tail.utf8))
            if lexer.tokens().isEmpty { continue }
            let expression = "return " + tail + "\n"
            guard compiles(expression), !whole || compiles(tail) else { continue }
            if i == 0 { return expression }      // the whole cell is the expression: it keeps line 1
            let head = LocalRewriter.rewrite(lines[..<i].joined(separator: "\n"))
            guard compiles(head) else { break }
            return head + "\n" + expression
        }
        return LocalRewriter.rewrite(source)
    }

    /// Runs one cell; `name` is its chunk name in messages ("[cell 3]"). With a `printer`
    /// (the REPL's), results are text only, as it renders them.
    /// `name` is a chunk name as Lua takes it ("@nb.lua", "=[cell 3]"); `firstLine` is the
    /// cell's first line in its file, so messages give the file's line numbers.
    func run(_ source: String, name: String, firstLine: Int = 1, width: Int = 100, printer: PrettyPrinter? = nil) -> Outcome {
        let state = session.state
        let code = String(repeating: "\n", count: max(0, firstLine - 1)) + Self.chunk(for: source) { candidate in
            let ok = state.pushLoaded(candidate, name: name) == LUA_OK
            lh_pop(L, 1)
            return ok
        }
        let base = lua_gettop(L)
        defer { lua_settop(L, base) }
        if state.pushLoaded(code, name: name) != LUA_OK {
            return .failed(Self.failure(message(at: -1)))
        }
        LuaInterrupt.clear()
        if lh_docall(L, 0, LUA_MULTRET, 1) != LUA_OK {
            return .failed(Self.failure(message(at: -1)))
        }
        let top = lua_gettop(L)
        guard top > base else { return .values([]) }
        if ((base + 1)...top).allSatisfy({ lua_type(L, $0) == LUA_TNIL }) { return .values([]) }
        return .values(((base + 1)...top).map { idx in
            if let printer { var r = RichValue(); r.data = [("text/plain", .string(printer.render(state, at: idx)))]; return r }
            return LunetteBindings.richValue(state, at: idx, width: width)
        })
    }

    /// Runs a notebook's cell: a cell read from a `-- %%` file is named by its file and lines
    /// (`nb.lua:42:` in messages), one from an .ipynb by its number among the code cells, as the
    /// kernel names the cell it runs as execution `number` (`[cell 3]:2:`).
    func run(cell: Cell, of path: String, number: Int, printer: PrettyPrinter? = nil) -> Outcome {
        let name = cell.line.map { _ in "@" + path } ?? Self.chunkName(number: number)
        return run(cell.source, name: name, firstLine: cell.line ?? 1, printer: printer)
    }

    /// The chunk name of a cell known by its number only.
    static func chunkName(number: Int) -> String { "=[cell \(number)]" }

    enum Completeness: Equatable {
        case complete
        /// More lines are needed (an open block, string or call).
        case incomplete
        /// No more lines can make it compile.
        case invalid
    }

    /// Whether code is a whole entry, as the REPL decides when to ask for another line (lua.c's
    /// rule: incomplete when it fails as statements with "<eof>" at the end). An entry that is
    /// empty, a `?name` or a `:command` is complete.
    static func completeness(of code: String, compiles: (String) -> (ok: Bool, message: String)) -> Completeness {
        let trimmed = code.trimmingSpaces
        if trimmed.isEmpty || trimmed.hasPrefix("?") || REPL.isCommand(trimmed) { return .complete }
        var expression = trimmed
        if expression.hasPrefix("=") { expression.removeFirst() }
        if expression.hasSuffix(";") { expression.removeLast() }
        if compiles("return " + expression + ";").ok { return .complete }
        let (ok, message) = compiles(LocalRewriter.rewrite(trimmed))
        if ok { return .complete }
        return message.hasSuffix("<eof>") ? .incomplete : .invalid
    }

    private func message(at idx: Int32) -> String {
        var len = 0
        if let p = lh_tostring(L, idx, &len) { return String(cString: p) }
        if let p = lh_tostring_protected(L, idx, &len) { return String(cString: p) }
        return "(error object is a \(String(cString: lua_typename(L, lua_type(L, idx)))) value)"
    }

    /// An error message with its traceback split as Jupyter shows errors.
    static func failure(_ message: String) -> Failure {
        let parts = message.components(separatedBy: "\nstack traceback:")
        let value = parts[0]
        return Failure(name: "LuaError", value: value, traceback: message.components(separatedBy: "\n"))
    }
}
