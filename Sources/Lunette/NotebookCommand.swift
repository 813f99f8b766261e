import CLua
import Foundation
import Glibc
import LuaHost
import LunetteLua
import Notebook
import Support

/// `lunette notebook run|convert ...`: a `-- %%` Lua notebook (or an .ipynb) run headless into
/// an .ipynb with every output and a self-contained HTML page, with papermill's parameters; or
/// converted between .lua and .ipynb without running.
enum NotebookCommand {
    static let usage = """
    usage: lunette notebook run NB.lua|NB.ipynb [--to OUT.ipynb] [--html OUT.html] [-p NAME VALUE]... [-r NAME VALUE]...
                                [--parameters FILE.yaml] [--timeout SECONDS] [--allow-errors] [--cwd DIR]
           lunette notebook convert IN.lua|IN.ipynb --to OUT.ipynb|OUT.lua|OUT.html
    run: cells run in order in one Lua state (locals stay visible, as in the REPL); each cell's
         printed text, log lines, last value, display(x) pictures and errors are kept. Without
         --to, NB.lua writes NB.ipynb beside it. A failing cell stops the run (exit 1, the notebook
         written up to it with an error banner) unless --allow-errors; Ctrl-C stops the cell (exit 130).
      -p NAME VALUE   a parameter, typed as papermill types it (True/true, 3, 0.5, [1, 2], else text)
      -r NAME VALUE   a parameter kept as text
      --parameters F  parameters from a YAML mapping (-p and -r given after it win)
      --timeout S     stop a cell that runs longer than S seconds (an error in that cell)
      --cwd DIR       run the cells in DIR (relative paths in the notebook start there)
    convert: sources, Markdown and metadata only (no outputs are made); .lua -> .ipynb -> .lua
         gives the same bytes back.

    """

    struct UsageError: Error, CustomStringConvertible { let description: String }

    struct RunOptions {
        var input = ""
        var output: String?
        var html: String?
        var parameters: [(String, JSONValue)] = []
        var timeout: Double?
        var allowErrors = false
        var cwd: String?
    }

    static func main(_ args: [String]) -> Int32 {
        guard let sub = args.first else { Console.err(usage); return 2 }
        do {
            switch sub {
            case "run":
                let options: RunOptions
                do { options = try parseRun(Array(args.dropFirst())) } catch let e as NotebookError { throw UsageError(description: e.message) }
                return try run(options)
            case "convert": return try convert(Array(args.dropFirst()))
            case "-h", "--help", "help": Console.out(usage); return 0
            default: throw UsageError(description: "unknown notebook command \"\(sub)\" (run or convert)")
            }
        } catch let e as UsageError {
            Console.err("lunette notebook: \(e.description)\n\(usage)")
            return 2
        } catch {
            Console.err("lunette notebook: \(error)\n")
            return 1
        }
    }

    static func parseRun(_ args: [String]) throws -> RunOptions {
        var o = RunOptions()
        var i = 0
        func value(_ flag: String, _ n: Int = 1) throws -> [String] {
            guard i + n < args.count else { throw UsageError(description: "\(flag) needs \(n == 1 ? "a value" : "a name and a value")") }
            defer { i += n }
            return Array(args[(i + 1)...(i + n)])
        }
        var fileParameters: [(String, JSONValue)] = []
        var given: [(String, JSONValue)] = []
        while i < args.count {
            let a = args[i]
            switch a {
            case "--to", "-o": o.output = try value(a)[0]
            case "--html": o.html = try value(a)[0]
            case "-p", "--parameter":
                let nv = try value(a, 2)
                try Parameters.checkName(nv[0], from: "-p")
                given.append((nv[0], try Parameters.typed(nv[1], name: nv[0])))
            case "-r", "--raw-parameter":
                let nv = try value(a, 2)
                try Parameters.checkName(nv[0], from: "-r")
                given.append((nv[0], .string(nv[1])))
            case "--parameters", "-f": fileParameters = try Parameters.file(try value(a)[0])
            case "--timeout":
                let t = try value(a)[0]
                guard let s = Double(t), s.isFinite, s > 0 else { throw UsageError(description: "--timeout takes seconds above 0, not \(t)") }
                o.timeout = s
            case "--allow-errors": o.allowErrors = true
            case "--cwd": o.cwd = try value(a)[0]
            default:
                if a.hasPrefix("-") && a != "-" { throw UsageError(description: "unknown option \(a)") }
                guard o.input.isEmpty else { throw UsageError(description: "one notebook at a time (\(o.input), then \(a))") }
                o.input = a
            }
            i += 1
        }
        guard !o.input.isEmpty else { throw UsageError(description: "which notebook? (lunette notebook run NB.lua)") }
        for (k, v) in fileParameters + given { o.parameters.set(k, v) }
        return o
    }

    static func load(_ path: String) throws -> Notebook {
        switch (path as NSString).pathExtension.lowercased() {
        case "ipynb": return try IPYNB.read(path)
        default:
            let data: Data
            do { data = try InputFile.data(path) } catch let e as FileError { throw NotebookError(e.message) }
            guard let text = String(data: data, encoding: .utf8) else { throw NotebookError("\(path): not UTF-8 text") }
            return try PercentFormat.parse(text, path: path)
        }
    }

    static func convert(_ args: [String]) throws -> Int32 {
        guard args.count == 3, args[1] == "--to" || args[1] == "-o" else { throw UsageError(description: "convert takes IN --to OUT") }
        let (input, output) = (args[0], args[2])
        let from = (input as NSString).pathExtension.lowercased(), to = (output as NSString).pathExtension.lowercased()
        guard ["lua", "ipynb"].contains(from) else { throw UsageError(description: "\(input): convert reads .lua or .ipynb notebooks") }
        guard ["lua", "ipynb", "html"].contains(to), to != from else {
            throw UsageError(description: "\(output): convert writes \(from == "lua" ? ".ipynb or .html" : ".lua or .html") from a .\(from)")
        }
        let nb = try load(input)
        do {
            switch to {
            case "lua": try AtomicFile.write(PercentFormat.render(nb), to: output)
            case "ipynb": try IPYNB.write(nb, to: output)
            default: try AtomicFile.write(HTMLPage.render(nb, title: (input as NSString).lastPathComponent), to: output)
            }
        } catch let e as FileError { throw NotebookError("cannot write \(output): \(e.message)") }
        Console.err("wrote \(output) (\(nb.cells.count) cells)\n")
        return 0
    }

    // MARK: run

    static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }

    /// Whether two paths name one file (a file that does not exist yet is no other file).
    static func same(_ a: String, _ b: String) -> Bool {
        var sa = stat(), sb = stat()
        guard stat(a, &sa) == 0, stat(b, &sb) == 0 else { return absolute(a) == absolute(b) }
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino
    }

    static func iso(_ d: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: d)
    }

    static func run(_ o: RunOptions) throws -> Int32 {
        var nb = try load(o.input)
        let isIPYNB = (o.input as NSString).pathExtension.lowercased() == "ipynb"
        var output = o.output
        if output == nil {
            guard !isIPYNB else { throw UsageError(description: "give --to OUT.ipynb (the notebook would be written over its own input)") }
            output = ((o.input as NSString).deletingPathExtension) + ".ipynb"
        }
        if let out = output {
            guard (out as NSString).pathExtension.lowercased() == "ipynb" else { throw UsageError(description: "--to \(out): the notebook written is an .ipynb") }
            if same(out, o.input) { throw UsageError(description: "--to \(out) is the notebook being run") }
        }
        if let html = o.html, (html as NSString).pathExtension.lowercased() != "html" && (html as NSString).pathExtension.lowercased() != "htm" {
            throw UsageError(description: "--html \(html): the page written is an .html")
        }
        for path in [output, o.html].compactMap({ $0 }) {
            let folder = (absolute(path) as NSString).deletingLastPathComponent
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: folder, isDirectory: &isDir), !isDir.boolValue {
                throw NotebookError("cannot write \(path): \(folder) is a file, not a folder")
            }
        }
        let outputPath = output.map(absolute)
        let htmlPath = o.html.map(absolute)
        let inputPath = absolute(o.input)

        for w in Parameters.inject(o.parameters, into: &nb) { Console.err("lunette notebook: warning: \(w)\n") }
        if let cwd = o.cwd {
            guard chdir(cwd) == 0 else { throw NotebookError("--cwd \(cwd): \(String(cString: strerror(errno)))") }
        }
        let session = try Session(scriptDirectory: (inputPath as NSString).deletingLastPathComponent)
        session.setArgTable(argv: ["lunette", inputPath], scriptIndex: 1)
        let start = Date()
        for i in nb.cells.indices where nb.cells[i].kind == .code {
            nb.cells[i].outputs = []
            nb.cells[i].executionCount = nil
            nb.cells[i].metadata.set("papermill", .object([("exception", .null), ("start_time", .null), ("end_time", .null),
                                                            ("duration", .null), ("status", .string("pending"))]))
        }
        nb.metadata.set("kernelspec", IPYNB.kernelspec)
        let luaVersion = session.state.version.replacingOccurrences(of: "Lua ", with: "")
        nb.metadata.set("language_info", IPYNB.languageInfo(version: luaVersion))
        var run: [(String, JSONValue)] = [
            ("parameters", .object(o.parameters)),
            ("input_path", .string(o.input)), ("output_path", output.map { .string($0) } ?? .null),
            ("start_time", .string(iso(start))), ("end_time", .null), ("duration", .null), ("exception", .null),
            ("version", .string("lunette \(LunetteBindings.version)")),
        ]
        nb.metadata.set("papermill", .object(run))

        func save() throws {
            if let outputPath { try IPYNB.write(nb, to: outputPath) }
        }
        try save()     // an output that cannot be written fails now, before any cell runs

        let capture = try OutputCapture(cap: 1 << 20)
        let terminal = capture.terminalError
        func say(_ s: String) {
            var s = s
            s.withUTF8 { b in _ = write(terminal, b.baseAddress, b.count) }
        }
        var count = 0
        var status: Int32 = 0
        var failure: (cell: Int, failure: CellRunner.Failure)?
        var failures = 0
        let runner = CellRunner(session: session)
        let codeCells = nb.cells.indices.filter { nb.cells[$0].kind == .code }
        var outputs: [Output] = []
        func collect(closing: Bool) {
            for (name, text) in capture.take(closing: closing) where !text.isEmpty {
                if case .stream(let n, let t)? = outputs.last, n == name {
                    outputs[outputs.count - 1] = .stream(name: n, text: t + text)
                } else {
                    outputs.append(.stream(name: name, text: text))
                }
            }
        }
        /// What was changed to show a value (a picture scaled down), as a line of stderr.
        func notes(_ value: RichValue) {
            for line in value.noteLines { outputs.append(.stream(name: "stderr", text: line)) }
        }
        LunetteBindings.displaySink = { value in
            collect(closing: false)
            notes(value)
            outputs.append(.displayData(data: value.data, metadata: value.metadata))
        }
        // Long work's progress bar: one output per bar, updated in place (as update_display_data
        // does in a kernel), instead of lines of stderr.
        var barOutput: Int?
        StatusConsole.barSink = { event in
            switch event {
            case .show(let bar):
                let v = LunetteBindings.richValue(of: bar)
                if let i = barOutput, i < outputs.count {
                    outputs[i] = .displayData(data: v.data, metadata: v.metadata)
                } else {
                    collect(closing: false)
                    outputs.append(.displayData(data: v.data, metadata: v.metadata))
                    barOutput = outputs.count - 1
                }
            case .end:
                barOutput = nil
            }
        }
        defer { LunetteBindings.displaySink = nil; StatusConsole.barSink = nil }
        let timer = CellTimer()
        // Ctrl-C between cells (or a time limit that ran out just as its cell ended) is counted,
        // never fatal; during a cell it stops the cell.
        lh_count_sigint_between_calls()
        let sigints = lh_sigint_count()
        for (k, i) in codeCells.enumerated() {
            if lh_sigint_count() != sigints { status = 130; break }
            count += 1
            let cellStart = Date()
            let label = nb.cells[i].title.map { " \($0)" } ?? ""
            say("[\(k + 1)/\(codeCells.count)]\(label) ")
            outputs = []
            barOutput = nil
            let before = lh_sigint_count()
            if let t = o.timeout { timer.arm(seconds: t) }
            let outcome = runner.run(cell: nb.cells[i], of: o.input, number: k + 1)
            let timedOut = timer.disarm()
            lh_clear_hook(session.L)
            if timedOut { LuaInterrupt.clear() }
            collect(closing: false)
            var failed: CellRunner.Failure?
            switch outcome {
            case .values where timedOut:
                // The code caught the stop (a pcall) or a primitive stopped cleanly and the cell
                // ended: it still ran past its time.
                let f = CellRunner.Failure(name: "TimeoutError", value: "the cell ran past --timeout \(Self.seconds(o.timeout ?? 0)); it was stopped", traceback: [])
                failed = f
                outputs.append(.error(name: f.name, value: f.value, traceback: f.traceback))
            case .values(let values):
                for v in values {
                    notes(v)
                    outputs.append(.executeResult(count: count, data: v.data, metadata: v.metadata))
                }
            case .failed(var f):
                if timedOut {
                    f.name = "TimeoutError"
                    f.value = "the cell ran past --timeout \(Self.seconds(o.timeout ?? 0)) and was stopped (\(f.value))"
                } else if lh_sigint_count() != before {
                    f.name = "KeyboardInterrupt"
                }
                failed = f
                outputs.append(.error(name: f.name, value: f.value, traceback: f.traceback))
            }
            collect(closing: true)
            let end = Date()
            nb.cells[i].outputs = outputs
            nb.cells[i].executionCount = count
            nb.cells[i].metadata.set("papermill", .object([
                ("exception", .bool(failed != nil)), ("start_time", .string(iso(cellStart))), ("end_time", .string(iso(end))),
                ("duration", .double(end.timeIntervalSince(cellStart))), ("status", .string(failed == nil ? "completed" : "failed")),
            ]))
            say(String(format: "%@ %.1f s\n", failed == nil ? "ok" : "FAILED", end.timeIntervalSince(cellStart)))
            if let f = failed {
                failures += 1
                let stops = f.name == "KeyboardInterrupt" || !o.allowErrors
                if failure == nil || stops { failure = (i, f) }
                if f.name == "KeyboardInterrupt" { status = 130; break }
                if !o.allowErrors { status = 1; break }
            }
            try? save()
        }
        capture.stop()
        if status == 130, failure == nil { Console.err("lunette notebook: stopped by Ctrl-C between cells\n") }
        let end = Date()
        run.set("end_time", .string(iso(end)))
        run.set("duration", .double(end.timeIntervalSince(start)))
        run.set("exception", .bool(failure != nil))
        nb.metadata.set("papermill", .object(run))
        let failedName = failure.map { f in nb.cells[f.cell].title.map { "cell \"\($0)\"" } ?? "cell \(codeCells.firstIndex(of: f.cell)! + 1)" }
        if let (cell, f) = failure, status != 0 {
            addErrorBanners(&nb, failedCell: cell, label: failedName!, failure: f)
        }
        try save()
        if let htmlPath {
            do { try AtomicFile.write(HTMLPage.render(nb, title: (o.input as NSString).lastPathComponent), to: htmlPath) } catch let e as FileError {
                throw NotebookError("cannot write \(o.html!): \(e.message)")
            }
        }
        let wrote = [output, o.html].compactMap { $0 }.joined(separator: " and ")
        if let (_, f) = failure, let failedName {
            let more = failures > 1 ? " (and \(failures - 1) more failing cell\(failures == 2 ? "" : "s"))" : ""
            Console.err("lunette notebook: \(o.allowErrors && status == 0 ? "an error in" : "stopped at") \(failedName): \(f.name): \(f.value)\(more)\n")
        }
        Console.err("lunette notebook: ran \(count) of \(codeCells.count) code cells in \(Self.seconds(end.timeIntervalSince(start))); wrote \(wrote)\n")
        return status
    }

    static func seconds(_ s: Double) -> String { s == s.rounded() ? "\(Int(s)) s" : String(format: "%.1f s", s) }

    /// papermill's banners: one at the top pointing at the failed cell, one just above it.
    static func addErrorBanners(_ nb: inout Notebook, failedCell: Int, label: String, failure: CellRunner.Failure) {
        let tag: JSONValue = .array([.string("papermill-error-cell-tag")])
        let top = "An error stopped the run at \(label): \(failure.name): \(failure.value.split(separator: "\n").first ?? "")"
        var above = Cell(kind: .markdown,
                         source: "<span id=\"papermill-error-cell\" style=\"color:red; font-size:1.5em;\">The run stopped here with an error (the cells below did not run):</span>",
                         metadata: [("tags", tag), ("lunette", .object([("banner", .string("The run stopped here with an error; the cells below did not run."))]))])
        above.id = "error-cell"
        var banner = Cell(kind: .markdown,
                          source: "<span style=\"color:red; font-size:2em;\">\(Markup.escape(top)) (<a href=\"#papermill-error-cell\">see it</a>)</span>",
                          metadata: [("tags", tag), ("lunette", .object([("banner", .string(top))]))])
        banner.id = "error-banner"
        nb.cells.insert(above, at: failedCell)
        nb.cells.insert(banner, at: 0)
        nb.assignIDs()
    }
}

/// A per-cell time limit: when it runs out, the running Lua code is stopped as Ctrl-C stops it
/// (without a signal, and again every 100 ms until the cell ends: a pcall catches one stop).
final class CellTimer: @unchecked Sendable {
    private let lock = NSLock()
    private var generation = 0
    private var armed = false
    private var fired = false

    func arm(seconds: Double) {
        lock.lock()
        generation += 1
        let mine = generation
        armed = true
        fired = false
        lock.unlock()
        tick(after: seconds, generation: mine)
    }

    private func tick(after seconds: Double, generation mine: Int) {
        DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { [self] in
            lock.lock()
            defer { lock.unlock() }
            guard armed, generation == mine else { return }
            fired = true
            lh_interrupt_running()
            tick(after: 0.1, generation: mine)
        }
    }

    /// Stops the clock (no stop is armed after it returns); whether it had run out.
    func disarm() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        armed = false
        return fired
    }
}
