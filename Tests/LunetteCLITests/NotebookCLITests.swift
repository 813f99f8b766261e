import Foundation
import Support
import TestFixtures
import XCTest

/// Runs Python (scripts/test installs nbformat and nbconvert); nil output when a module is
/// missing, so the caller can skip (and fail under CI=true).
func python(_ code: String, _ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["python3", "-c", code] + arguments
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    final class Box: @unchecked Sendable { var data = Data() }
    let e = Box()
    let done = DispatchSemaphore(value: 0)
    let handle = err.fileHandleForReading
    DispatchQueue.global().async { e.data = handle.readDataToEndOfFile(); done.signal() }
    let o = out.fileHandleForReading.readDataToEndOfFile()
    done.wait()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e.data, as: UTF8.self))
}

/// Every notebook given passes nbformat's own validation (the nbformat 4.5 JSON schema).
func assertValidNotebooks(_ paths: [String], file: StaticString = #filePath, line: UInt = #line) throws {
    let code = """
        import sys
        try:
            import nbformat
        except ImportError:
            print("MISSING"); sys.exit(0)
        for p in sys.argv[1:]:
            nb = nbformat.read(p, as_version=nbformat.NO_CONVERT)
            nbformat.validate(nb)
            assert nb.nbformat == 4 and nb.nbformat_minor == 5, p
        print("VALID", len(sys.argv) - 1)
        """
    let r = try python(code, paths)
    if r.out.hasPrefix("MISSING") { throw Missing.requirement("Python's nbformat is not installed (pip install nbformat)") }
    XCTAssertEqual(r.out.trimmingCharacters(in: .whitespacesAndNewlines), "VALID \(paths.count)", r.err, file: file, line: line)
}

/// `lunette notebook run` and `convert`: what a run keeps, parameters, failures, limits, Ctrl-C
/// and kill -9, conversions, and the REPL's :save / :run.
final class NotebookCLITests: XCTestCase {
    var dir = ""

    override func setUpWithError() throws {
        dir = try scratchDirectory()
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: dir)
    }

    func write(_ name: String, _ text: String) throws -> String {
        let path = dir + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func notebook(_ name: String) throws -> JSONValue {
        try JSON.parse([UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/" + name))))
    }

    func run(_ args: [String]) throws -> RunResult {
        try runLunette(["notebook"] + args, directory: dir)
    }

    static func text(_ v: JSONValue?) -> String {
        switch v {
        case .string(let s)?: return s
        case .array(let a)?: return a.compactMap(\.string).joined()
        default: return ""
        }
    }

    /// (output_type, stream name or first MIME types, text) of each output of a code cell.
    static func outputs(_ cell: JSONValue) -> [(type: String, detail: String, text: String)] {
        (cell["outputs"]?.array ?? []).map { o in
            let type = o["output_type"]?.string ?? ""
            switch type {
            case "stream": return (type, o["name"]?.string ?? "", text(o["text"]))
            case "error": return (type, o["ename"]?.string ?? "", o["evalue"]?.string ?? "")
            default:
                guard case .object(let data)? = o["data"] else { return (type, "", "") }
                return (type, data.map(\.0).joined(separator: ","), text(o["data"]?["text/plain"]))
            }
        }
    }

    func codeCells(_ nb: JSONValue) -> [JSONValue] { nb["cells"]!.array!.filter { $0["cell_type"] == .string("code") } }

    func testARunKeepsEveryKindOfOutputInOrder() throws {
        let nb = try write("nb.lua", """
            -- %% [markdown]
            -- # Outputs

            -- %% Streams
            local greeting = "hello"
            print(greeting)
            io.stderr:write("a log line\\n")
            os.execute("echo from a child process")
            io.write("no newline")

            -- %% Values
            local cv = require "cv"
            display(cv.new_image(30, 20))
            print("between")
            local rows = { { class = "logo", n = 3 }, { class = "product", n = 1 } }
            rows

            -- %%
            greeting .. " again", 42

            -- %%
            local function mk(t) return t.lr * 10 end
            local cfg = mk
            { lr = 0.1 }
            print(cfg)

            -- %%
            local silent = 1;

            -- %%
            nil

            """)
        let r = try run(["run", nb, "--to", "out.ipynb", "--html", "out.html"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("ran 6 of 6 code cells"), r.stderr)
        try assertValidNotebooks([dir + "/out.ipynb"])
        let out = try notebook("out.ipynb")
        XCTAssertEqual(out["metadata"]?["kernelspec"]?["name"], .string("lunette"))
        XCTAssertEqual(out["metadata"]?["language_info"]?["name"], .string("lua"))
        XCTAssertEqual(out["metadata"]?["papermill"]?["exception"], .bool(false))
        let cells = codeCells(out)
        XCTAssertEqual(cells.map { $0["execution_count"]?.integer }, [1, 2, 3, 4, 5, 6])
        for c in cells { XCTAssertEqual(c["metadata"]?["papermill"]?["status"], .string("completed")) }
        // Streams at the fd level: Lua's print, io.stderr, a child process, unterminated io.write.
        let streams = Self.outputs(cells[0])
        let stdout = streams.filter { $0.detail == "stdout" }.map(\.text).joined()
        XCTAssertEqual(stdout, "hello\nfrom a child process\nno newline")
        XCTAssertEqual(streams.filter { $0.detail == "stderr" }.map(\.text).joined(), "a log line\n")
        // display() keeps its place among prints; the last expression is the result.
        let values = Self.outputs(cells[1])
        XCTAssertEqual(values.map(\.type), ["display_data", "stream", "execute_result"])
        XCTAssertEqual(values[0].detail, "text/plain,image/png")
        XCTAssertEqual(values[0].text, "cv.Image 30x20 bgr")
        XCTAssertEqual(values[1].text, "between\n")
        XCTAssertEqual(values[2].detail, "text/plain,text/html")
        let html = Self.text(cells[1]["outputs"]!.array![2]["data"]?["text/html"])
        XCTAssertTrue(html.contains("<th>class</th><th>n</th>") && html.contains("<td>logo</td><td>3</td>"), html)
        let png = Self.text(cells[1]["outputs"]!.array![0]["data"]?["image/png"])
        XCTAssertEqual(Data(base64Encoded: png)?.prefix(4), Data([0x89, 0x50, 0x4E, 0x47]))
        // Locals stay visible; several results; `;` and nil show nothing.
        XCTAssertEqual(Self.outputs(cells[2]).map(\.text), ["\"hello again\"", "42"])
        // A last line that continues the statement above is not split off as a result.
        XCTAssertEqual(Self.outputs(cells[3]).map(\.text), ["1.0\n"])
        XCTAssertTrue(Self.outputs(cells[4]).isEmpty)
        XCTAssertTrue(Self.outputs(cells[5]).isEmpty)
        // One self-contained page: the picture inline, nothing fetched from elsewhere.
        let page = try String(contentsOfFile: dir + "/out.html", encoding: .utf8)
        XCTAssertTrue(page.contains("<h1>Outputs</h1>"))
        XCTAssertTrue(page.contains("<img src=\"data:image/png;base64,"))
        XCTAssertFalse(page.contains("src=\"http") || page.contains("href=\"http") || page.contains("<link"))
    }

    func testAFailingCellStopsTheRunWithABanner() throws {
        let nb = try write("fail.lua", "-- %%\nprint(1)\n\n-- %% Broken\nlocal t = nil\nt.x = 1\n\n-- %%\nprint('after')\n")
        let r = try run(["run", nb, "--to", "out.ipynb"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("stopped at cell \"Broken\": LuaError: ") && r.stderr.contains("fail.lua:6: attempt to index a nil value"), r.stderr)
        try assertValidNotebooks([dir + "/out.ipynb"])
        let out = try notebook("out.ipynb")
        let all = out["cells"]!.array!
        XCTAssertEqual(all[0]["metadata"]?["tags"], .array([.string("papermill-error-cell-tag")]))
        XCTAssertTrue(all[0]["metadata"]?["lunette"]?["banner"]?.string?.hasPrefix("An error stopped the run at cell \"Broken\": LuaError: ") == true)
        XCTAssertTrue(Self.text(all[0]["source"]).contains("An error stopped the run at cell &quot;Broken&quot;"))
        XCTAssertEqual(all[2]["metadata"]?["tags"], .array([.string("papermill-error-cell-tag")]))      // just above the failed cell
        let cells = codeCells(out)
        XCTAssertEqual(cells.map { $0["metadata"]?["papermill"]?["status"]?.string }, ["completed", "failed", "pending"])
        XCTAssertEqual(cells[2]["execution_count"], .null)
        let error = cells[1]["outputs"]!.array![0]
        XCTAssertEqual(error["ename"], .string("LuaError"))
        XCTAssertTrue(error["traceback"]!.array!.contains { $0.string?.contains("stack traceback:") == true })
        XCTAssertEqual(out["metadata"]?["papermill"]?["exception"], .bool(true))

        // --allow-errors: every cell runs, exit 0, and no banner.
        let again = try run(["run", nb, "--to", "all.ipynb", "--allow-errors"])
        XCTAssertEqual(again.status, 0, again.stderr)
        let all2 = try notebook("all.ipynb")
        XCTAssertEqual(codeCells(all2).map { $0["metadata"]?["papermill"]?["status"]?.string }, ["completed", "failed", "completed"])
        XCTAssertFalse(all2["cells"]!.array!.contains { $0["metadata"]?["tags"] == .array([.string("papermill-error-cell-tag")]) })
    }

    func testParametersAsPapermill() throws {
        let nb = try write("p.lua", """
            -- %% Parameters tags=["parameters"]
            brand = "demo"
            iterations = 300
            rate = 0.02
            fast = false
            classes = { "logo" }

            -- %%
            print(brand, math.type(iterations), iterations, rate, fast, #classes, classes[2], code)

            """)
        try "iterations: 7\nbrand: fromfile\n".write(toFile: dir + "/p.yaml", atomically: true, encoding: .utf8)
        let r = try run(["run", nb, "--to", "out.ipynb", "--parameters", "p.yaml", "-p", "brand", "brandA", "-p", "rate", "0.5",
                         "-p", "fast", "True", "-p", "classes", "[logo, product]", "-r", "code", "007", "-p", "unknown", "1"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("warning: passed unknown parameter: code"), r.stderr)
        XCTAssertTrue(r.stderr.contains("warning: passed unknown parameter: unknown"), r.stderr)
        let out = try notebook("out.ipynb")
        let cells = out["cells"]!.array!
        XCTAssertEqual(cells[1]["metadata"]?["tags"], .array([.string("injected-parameters")]))
        XCTAssertEqual(Self.text(cells[1]["source"]),
                       "-- Parameters\niterations = 7\nbrand = \"brandA\"\nrate = 0.5\nfast = true\nclasses = {\"logo\", \"product\"}\ncode = \"007\"\nunknown = 1")
        XCTAssertEqual(Self.outputs(cells[2]).first?.text, "brandA\tinteger\t7\t0.5\ttrue\t2\tproduct\t007\n")
        XCTAssertEqual(out["metadata"]?["papermill"]?["parameters"]?["iterations"], .int(7))
        try assertValidNotebooks([dir + "/out.ipynb"])
    }

    /// --cwd: the cells run there; arg[0] is the notebook's path, so a notebook finds its folder.
    func testWorkingFolderAndArg() throws {
        try FileManager.default.createDirectory(atPath: dir + "/work", withIntermediateDirectories: true)
        let nb = try write("where.lua", "-- %%\nio.open('made_here.txt', 'w'):close()\nprint(arg[0]:match('[^/]+$'), select('#', ...))\n")
        let r = try run(["run", nb, "--to", "where.ipynb", "--cwd", "work"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/work/made_here.txt"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/where.ipynb"))     // --to is read before moving
        XCTAssertEqual(Self.outputs(codeCells(try notebook("where.ipynb"))[0]).first?.text, "where.lua\t0\n")
        let missing = try run(["run", nb, "--cwd", "nowhere"])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("--cwd nowhere: No such file or directory"), missing.stderr)
    }

    func testATimeoutStopsTheCell() throws {
        // A cell that catches the stop with pcall is stopped again, and still counts as timed out.
        let stubborn = try write("stubborn.lua", "-- %%\nfor i = 1, 1e9 do pcall(function() local x = 0 for j = 1, 1e6 do x = x + j end end) end\n\n-- %%\nprint('next')\n")
        let s = try run(["run", stubborn, "--to", "stubborn.ipynb", "--timeout", "1"])
        XCTAssertEqual(s.status, 1, s.stderr)
        XCTAssertEqual(Self.outputs(codeCells(try notebook("stubborn.ipynb"))[0]).first?.detail, "TimeoutError")
        let nb = try write("slow.lua", "-- %%\nprint('first')\n\n-- %%\nwhile true do end\n\n-- %%\nprint('never')\n")
        let r = try run(["run", nb, "--to", "out.ipynb", "--timeout", "1"])
        XCTAssertEqual(r.status, 1, r.stderr)
        let cells = codeCells(try notebook("out.ipynb"))
        XCTAssertEqual(Self.outputs(cells[1]).first?.detail, "TimeoutError")
        XCTAssertTrue(Self.outputs(cells[1]).first?.text.contains("ran past --timeout 1 s") == true)
        XCTAssertEqual(cells[2]["execution_count"], .null)
    }

    /// Ctrl-C stops the cell in hand; the notebook is written up to it (exit 130). kill -9
    /// loses nothing finished: the notebook on disk is whole, up to the last finished cell.
    func testCtrlCAndKillNine() throws {
        for signal in [SIGINT, SIGKILL] {
            let marker = dir + "/started-\(signal)"
            let nb = try write("long.lua", "-- %%\nprint('done first')\n\n-- %%\nio.open('\(marker)', 'w'):close()\nlocal i = 0 while true do i = i + 1 end\n\n-- %%\nprint('never')\n")
            let p = Process()
            p.executableURL = URL(fileURLWithPath: lunettePath)
            p.arguments = ["notebook", "run", nb, "--to", dir + "/out-\(signal).ipynb"]
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            let deadline = Date().addingTimeInterval(60)
            while !FileManager.default.fileExists(atPath: marker), Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
            XCTAssertTrue(FileManager.default.fileExists(atPath: marker))
            kill(p.processIdentifier, signal)
            p.waitUntilExit()
            try assertValidNotebooks([dir + "/out-\(signal).ipynb"])
            let cells = codeCells(try notebook("out-\(signal).ipynb"))
            XCTAssertEqual(Self.outputs(cells[0]).first?.text, "done first\n")
            if signal == SIGINT {
                XCTAssertEqual(p.terminationStatus, 130)
                XCTAssertEqual(Self.outputs(cells[1]).first?.detail, "KeyboardInterrupt")
            } else {
                XCTAssertEqual(p.terminationReason, .uncaughtSignal)
                XCTAssertEqual(cells[1]["metadata"]?["papermill"]?["status"], .string("pending"))
            }
            XCTAssertEqual(cells[2]["execution_count"], .null)
        }
    }

    func testBadInput() throws {
        // A file without markers is one cell.
        let plain = try write("plain.lua", "local x = 2\nprint(x * 21)\n")
        var r = try run(["run", plain])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(Self.outputs(codeCells(try notebook("plain.ipynb"))[0]).first?.text, "42\n")
        // An unterminated marker names the file and line; nothing is written.
        let open = try write("open.lua", "-- %%\nx = 1\n\n-- %% tags=[\"parameters\"\ny = 2\n")
        r = try run(["run", open, "--to", "open.ipynb"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("open.lua:4: the cell marker has a `[` that is not closed"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/open.ipynb"))
        // A -p value that does not parse; a bad parameter name; a missing value.
        r = try run(["run", plain, "-p", "classes", "[logo, product"])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("-p classes: [logo, product does not parse as a list"), r.stderr)
        r = try run(["run", plain, "-p", "2x", "1"])
        XCTAssertTrue(r.stderr.contains("\"2x\" cannot be a parameter"), r.stderr)
        r = try run(["run", plain, "-p", "brand"])
        XCTAssertTrue(r.stderr.contains("-p needs a name and a value"), r.stderr)
        // An output that cannot be written fails before any cell runs.
        let side = try write("side.lua", "-- %%\nio.open('ran.txt', 'w'):close()\n")
        r = try run(["run", side, "--to", "/proc/no/out.ipynb"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("cannot write the notebook") && r.stderr.contains("/proc/no"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/ran.txt"))
        r = try run(["run", side, "--to", "./side.lua"])
        XCTAssertTrue(r.stderr.contains("--to ./side.lua: the notebook written is an .ipynb"), r.stderr)
        XCTAssertTrue(try String(contentsOfFile: dir + "/side.lua", encoding: .utf8).hasPrefix("-- %%"))
        // An .ipynb input needs --to; unknown options.
        r = try run(["run", dir + "/plain.ipynb"])
        XCTAssertTrue(r.stderr.contains("give --to OUT.ipynb"), r.stderr)
        r = try run(["run", plain, "--timout", "3"])
        XCTAssertTrue(r.stderr.contains("unknown option --timout"), r.stderr)
        r = try run(["frobnicate"])
        XCTAssertTrue(r.stderr.contains("unknown notebook command \"frobnicate\""), r.stderr)
        // A cell that prints megabytes keeps a capped stream and says so; a huge picture is scaled.
        let big = try write("big.lua", "-- %%\nfor i = 1, 40 do io.write(('x'):rep(100000)) end\nio.write('\\n')\n\n-- %%\ndisplay(require('cv').new_image(9000, 10))\n")
        r = try run(["run", big, "--to", "big.ipynb"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let cells = codeCells(try notebook("big.ipynb"))
        let streams = Self.outputs(cells[0])
        XCTAssertEqual(streams.filter { $0.detail == "stdout" }.map(\.text).joined().utf8.count, 1 << 20)
        XCTAssertTrue(streams.contains { $0.text.contains("2.8 MB more of stdout was not kept: a cell keeps at most 1.0 MB") }, "\(streams.map { $0.text.prefix(200) })")
        XCTAssertTrue(Self.outputs(cells[1]).contains { $0.text.contains("9000 x 10 pixels is larger than a notebook shows (4096 a side): shown at 4096 x 4") })
        try assertValidNotebooks([dir + "/plain.ipynb", dir + "/big.ipynb"])
    }

    func testConvertRoundTripsEveryTutorial() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("notebooks").path
        let tutorials = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".lua") }.sorted()
        XCTAssertEqual(tutorials, ["00_lua_for_python_users.lua", "01_datasets.lua", "02_train.lua", "03_evaluate.lua", "04_tune.lua", "05_detect.lua"])
        var written: [String] = []
        for t in tutorials {
            let name = (t as NSString).deletingPathExtension
            var r = try run(["convert", folder + "/" + t, "--to", "\(name).ipynb"])
            XCTAssertEqual(r.status, 0, r.stderr)
            r = try run(["convert", "\(name).ipynb", "--to", "\(name).lua"])
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: dir + "/\(name).lua")), try Data(contentsOf: URL(fileURLWithPath: folder + "/" + t)), t)
            written.append(dir + "/\(name).ipynb")
        }
        try assertValidNotebooks(written)
        let r = try run(["convert", "00_lua_for_python_users.ipynb", "--to", "00.html"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(try String(contentsOfFile: dir + "/00.html", encoding: .utf8).contains("<h1>"))
        let bad = try run(["convert", "00_lua_for_python_users.ipynb", "--to", "x.ipynb"])
        XCTAssertTrue(bad.stderr.contains("convert writes .lua or .html from a .ipynb"), bad.stderr)
    }

    /// Jupyter's own nbconvert opens what a run writes.
    func testNbconvertOpensARunNotebook() throws {
        let nb = try write("n.lua", "-- %% [markdown]\n-- # Title\n\n-- %%\ndisplay(require('cv').new_image(8, 8))\n1 + 1\n\n-- %%\nerror('shown')\n")
        let r = try run(["run", nb, "--to", "n.ipynb", "--allow-errors"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let code = """
            import sys
            try:
                import nbconvert, nbformat
            except ImportError:
                print("MISSING"); sys.exit(0)
            body, _ = nbconvert.HTMLExporter().from_notebook_node(nbformat.read(sys.argv[1], as_version=4))
            print("OK", "data:image/png;base64" in body, "shown" in body)
            """
        let out = try python(code, [dir + "/n.ipynb"])
        if out.out.hasPrefix("MISSING") { throw Missing.requirement("Python's nbconvert is not installed (pip install nbconvert)") }
        XCTAssertEqual(out.out.trimmingCharacters(in: .whitespacesAndNewlines), "OK True True", out.err)
    }

    func testTheREPLSavesAndRunsNotebooks() throws {
        let nb = try write("analysis.lua", "-- %%\nlocal base = 40\n\n-- %% [markdown]\n-- skipped\n\n-- %%\nbase + 2\n")
        let input = "local a = 5\na * 2\nerror('boom')\n:save session.lua\n:run analysis.lua\nbase\n:save all.lua\n:frob\n"
        let r = try runLunette(["-i"], stdin: input, directory: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("saved 2 entries to session.lua (1 that failed left out)"), r.stdout)
        XCTAssertTrue(r.stdout.contains("42\nran 2 cells of analysis.lua"), r.stdout)
        XCTAssertTrue(r.stderr.contains("unknown command :frob"), r.stderr)
        XCTAssertEqual(try String(contentsOfFile: dir + "/session.lua", encoding: .utf8), "-- %%\nlocal a = 5\n\n-- %%\na * 2\n")
        XCTAssertEqual(try String(contentsOfFile: dir + "/all.lua", encoding: .utf8),
                       "-- %%\nlocal a = 5\n\n-- %%\na * 2\n\n-- %%\nlocal base = 40\n\n-- %%\nbase + 2\n\n-- %%\nbase\n")
        // The saved session runs as a notebook.
        let again = try run(["run", "all.lua", "--to", "all.ipynb"])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertEqual(Self.outputs(codeCells(try notebook("all.ipynb"))[4]).first?.text, "40")
        _ = nb
    }
}
