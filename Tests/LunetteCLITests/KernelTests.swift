import Foundation
import Support
import TestFixtures
import XCTest

/// The Jupyter kernel with Jupyter's own client: jupyter_client's KernelManager starts it from
/// its kernelspec (scripts/test installs jupyter_client, nbconvert and papermill), and one
/// session (Scripts/kernel_session.py) records every exchange; each test reads its part.
final class KernelTests: XCTestCase {
    static let scripts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Scripts").path

    /// A kernelspec installed under a scratch prefix, and the environment that makes Jupyter see
    /// only it (connection files and runtime state stay in the scratch folder too).
    struct Installation {
        let dir: String
        var environment: [String: String] {
            ["JUPYTER_PATH": dir + "/prefix/share/jupyter", "JUPYTER_RUNTIME_DIR": dir + "/runtime", "JUPYTER_DATA_DIR": dir + "/data",
             "JUPYTER_CONFIG_DIR": dir + "/config", "JUPYTER_PLATFORM_DIRS": "1", "PYDEVD_DISABLE_FILE_VALIDATION": "1"]
        }
    }

    nonisolated(unsafe) static var installation: Result<Installation, Error>?
    nonisolated(unsafe) static var session: Result<JSONValue, Error>?

    static func installed() throws -> Installation {
        if let installation { return try installation.get() }
        let r = Result { () throws -> Installation in
            let dir = try scratchDirectory()
            let i = try runLunette(["kernel", "install", "--prefix", dir + "/prefix"])
            guard i.status == 0 else { throw KernelTestFailure("lunette kernel install failed: \(i.stderr)") }
            let probe = try runTool(["-c", "import jupyter_client, nbconvert, papermill, zmq"], Installation(dir: dir).environment)
            if probe.status != 0 {
                throw Missing.requirement("Python's jupyter_client, nbconvert and papermill are not installed (pip install jupyter_client nbconvert papermill)")
            }
            return Installation(dir: dir)
        }
        installation = r
        return try r.get()
    }

    /// python3 with the installation's environment.
    static func runTool(_ arguments: [String], _ environment: [String: String], directory: String? = nil) throws -> RunResult {
        try runBuilt("/usr/bin/env", ["python3"] + arguments, environment: environment, directory: directory)
    }

    /// The recorded session (run once for all the tests that read it).
    static func report() throws -> JSONValue {
        if let session { return try session.get() }
        let r = Result { () throws -> JSONValue in
            let i = try installed()
            let scratch = i.dir + "/session"
            try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
            let run = try runTool([scripts + "/kernel_session.py", try Fixtures.path("trained/config.yaml").replacingOccurrences(of: "/trained/config.yaml", with: ""), scratch],
                                  i.environment.merging(["OMP_NUM_THREADS": "2"]) { $1 })
            guard run.status == 0, let line = run.stdout.split(separator: "\n").last else {
                throw KernelTestFailure("the kernel session failed (\(run.status)):\n\(run.stderr.suffix(4000))")
            }
            return try JSON.parse(Array(line.utf8))
        }
        session = r
        return try r.get()
    }

    /// The iopub messages of one request as [type, content].
    static func iopub(_ v: JSONValue?) -> [(type: String, content: JSONValue)] {
        (v?["iopub"]?.array ?? []).map { ($0.array?[0].string ?? "", $0.array?[1] ?? .null) }
    }

    func testTheKernelspecIsWhereJupyterLooks() throws {
        let i = try Self.installed()
        let list = try Self.runTool(["-m", "jupyter_client.kernelspecapp", "list", "--json"], i.environment)
        XCTAssertEqual(list.status, 0, list.stderr)
        let specs = try JSON.parse(Array(list.stdout.utf8))
        let spec = specs["kernelspecs"]?["lunette"]
        XCTAssertEqual(spec?["resource_dir"]?.string, i.dir + "/prefix/share/jupyter/kernels/lunette")
        XCTAssertEqual(spec?["spec"]?["argv"], .array([.string(lunettePath), .string("kernel"), .string("-f"), .string("{connection_file}")]))
        XCTAssertEqual(spec?["spec"]?["language"]?.string, "lua")
        XCTAssertEqual(spec?["spec"]?["interrupt_mode"]?.string, "signal")
        XCTAssertEqual(spec?["spec"]?["display_name"]?.string, "Lunette (Lua 5.4)")
        for logo in ["logo-32x32.png", "logo-64x64.png", "logo-svg.svg"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: i.dir + "/prefix/share/jupyter/kernels/lunette/" + logo), logo)
        }
        // --user goes to the user's data folder; a second name and display name are kept.
        let user = try runLunette(["kernel", "install", "--user", "--name", "lunette-cpu", "--display-name", "Lunette CPU"],
                                  environment: ["JUPYTER_DATA_DIR": i.dir + "/userdata"])
        XCTAssertEqual(user.status, 0, user.stderr)
        let json = try JSON.parse(Array(try Data(contentsOf: URL(fileURLWithPath: i.dir + "/userdata/kernels/lunette-cpu/kernel.json"))))
        XCTAssertEqual(json["display_name"]?.string, "Lunette CPU")
        // Bad requests say what is wrong and exit 2.
        for (args, message) in [(["--name", "my kernel"], "kernel name \"my kernel\" may hold only letters, digits, '.', '_' and '-'"),
                                (["--user", "--prefix", "/tmp/x"], "--user and --prefix name two places; give one"),
                                (["--prefix"], "--prefix needs a value"), (["--colour"], "unknown option --colour")] {
            let r = try runLunette(["kernel", "install"] + args)
            XCTAssertEqual(r.status, 2, args.joined(separator: " "))
            XCTAssertTrue(r.stderr.hasPrefix("lunette kernel: \(message)\n"), r.stderr)
        }
    }

    func testKernelInfoDescribesLua() throws {
        let info = try Self.report()["kernel_info"]
        XCTAssertEqual(info?["status"]?.string, "ok")
        XCTAssertEqual(info?["protocol_version"]?.string, "5.3")
        XCTAssertEqual(info?["implementation"]?.string, "lunette")
        XCTAssertEqual(info?["language_info"]?["name"]?.string, "lua")
        XCTAssertEqual(info?["language_info"]?["file_extension"]?.string, ".lua")
        XCTAssertEqual(info?["language_info"]?["mimetype"]?.string, "text/x-lua")
        XCTAssertTrue(info?["language_info"]?["version"]?.string?.hasPrefix("5.4.") ?? false)
        XCTAssertTrue(info?["banner"]?.string?.hasPrefix("Lunette ") ?? false)
        XCTAssertEqual(info?["help_links"]?.array?.first?["url"]?.string, "https://www.lua.org/manual/5.4/")
    }

    func testOnePlusOneIsTwoOnIopub() throws {
        XCTAssertEqual(try Self.report()["idle_interrupt_alive"], .bool(true), "an interrupt between cells is not fatal")
        let r = try Self.report()["one_plus_one"]
        let messages = Self.iopub(r)
        XCTAssertEqual(messages.map(\.type), ["status", "execute_input", "execute_result", "status"])
        XCTAssertEqual(messages[0].content["execution_state"]?.string, "busy")
        XCTAssertEqual(messages[1].content["code"]?.string, "1 + 1")
        XCTAssertEqual(messages[2].content["data"], .object([("text/plain", .string("2"))]))
        XCTAssertEqual(messages[2].content["execution_count"], .int(1))
        XCTAssertEqual(messages[3].content["execution_state"]?.string, "idle")
        XCTAssertEqual(r?["reply"]?["status"]?.string, "ok")
        XCTAssertEqual(r?["reply"]?["execution_count"], .int(1))
    }

    func testACellThatPrintsDisplaysAPictureAndFails() throws {
        let report = try Self.report()
        let messages = Self.iopub(report["mixed"])
        // stdout and stderr each keep their order; between the two, the order they were read in.
        XCTAssertEqual(Set(messages.filter { $0.type == "stream" }.map { "\($0.content["name"]!.string!):\($0.content["text"]!.string!)" }),
                       ["stdout:hello\n", "stderr:careful\n"])
        XCTAssertEqual(messages.map(\.type).filter { $0 != "stream" }, ["status", "execute_input", "display_data", "error", "status"])
        let display = messages.first { $0.type == "display_data" }!.content
        XCTAssertEqual(display["data"]?["text/plain"]?.string, "cv.Image 6x4 bgr")
        let png = Data(base64Encoded: display["data"]?["image/png"]?.string ?? "") ?? Data()
        XCTAssertEqual(Array(png.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        XCTAssertEqual(display["metadata"]?["image/png"], .object([("width", .int(6)), ("height", .int(4))]))
        let error = messages.first { $0.type == "error" }!.content
        XCTAssertEqual(error["ename"]?.string, "LuaError")
        XCTAssertEqual(error["evalue"]?.string, "[cell 2]:4: the cell failed")
        XCTAssertEqual(error["traceback"]?.array?.first?.string, "[cell 2]:4: the cell failed")
        XCTAssertEqual(error["traceback"]?.array?.last?.string, "\t[cell 2]:4: in main chunk")
        let reply = report["mixed"]?["reply"]
        XCTAssertEqual(reply?["status"]?.string, "error")
        XCTAssertEqual(reply?["ename"]?.string, "LuaError")
        XCTAssertEqual(reply?["evalue"]?.string, "[cell 2]:4: the cell failed")
        // The next cell runs, with the next count.
        XCTAssertEqual(Self.iopub(report["after_error"]).first { $0.type == "execute_result" }?.content["data"]?["text/plain"]?.string, "42")
        XCTAssertEqual(report["after_error"]?["reply"]?["execution_count"], .int(3))
    }

    func testSilentExecutionStoreHistoryAndUserExpressions() throws {
        let report = try Self.report()
        // silent: nothing but busy and idle on iopub, and the count does not move.
        XCTAssertEqual(Self.iopub(report["silent"]).map(\.type), ["status", "status"])
        XCTAssertEqual(report["silent"]?["reply"]?["execution_count"], .int(3))
        // store_history false: outputs, but the count does not move either.
        XCTAssertEqual(Self.iopub(report["no_history"]).map(\.type), ["status", "execute_input", "execute_result", "status"])
        XCTAssertEqual(report["no_history"]?["reply"]?["execution_count"], .int(3))
        let expressions = report["expressions"]?["reply"]?["user_expressions"]
        XCTAssertEqual(expressions?["twice"], .object([("status", .string("ok")), ("data", .object([("text/plain", .string("10"))])), ("metadata", .object([]))]))
        XCTAssertEqual(expressions?["bad"]?["status"]?.string, "error")
        XCTAssertEqual(expressions?["bad"]?["evalue"]?.string, "[user expression]:1: unexpected symbol near <eof>")
        // history: the stored inputs, numbered by their execution counts.
        XCTAssertEqual(report["history"]?["history"], .array([
            .array([.int(0), .int(6), .string("cfg = d2.config.get_cfg()")]),
            .array([.int(0), .int(7), .string("t = require(\"torch\").zeros(2)")]),
        ]))
        XCTAssertEqual(report["comm_info"], .object([("status", .string("ok")), ("comms", .object([]))]))
    }

    func testCompletionOffersWhatTheREPLOffers() throws {
        let report = try Self.report()
        func check(_ key: String, _ matches: [String], _ start: Int, _ end: Int, file: StaticString = #filePath, line: UInt = #line) {
            let r = report[key]
            XCTAssertEqual(r?["status"]?.string, "ok", file: file, line: line)
            XCTAssertEqual(r?["matches"]?.array?.compactMap(\.string), matches, key, file: file, line: line)
            XCTAssertEqual(r?["cursor_start"], .int(Int64(start)), key, file: file, line: line)
            XCTAssertEqual(r?["cursor_end"], .int(Int64(end)), key, file: file, line: line)
        }
        check("complete_engine", ["engine"], 3, 6)                          // d2.eng|
        check("complete_global", ["tonumber"], 10, 14)                      // local n = tonu|
        check("complete_cfg", ["BASE_LR", "BASE_LR_END"], 11, 17)           // config keys
        check("complete_method", ["sigmoid", "sign", "size"], 2, 4)         // a tensor's methods after ':'
        check("complete_middle", ["DefaultPredictor", "DefaultTrainer"], 10, 15)
    }

    func testInspectAndQuestionMarkShowTheHelpText() throws {
        let report = try Self.report()
        let help = "detectron2.engine.DefaultPredictor(cfg, options?) -> DefaultPredictor\n  Builds the model from cfg, loads MODEL.WEIGHTS"
        XCTAssertEqual(report["inspect"]?["found"], .bool(true))
        XCTAssertTrue(report["inspect"]?["data"]?["text/plain"]?.string?.hasPrefix(help) ?? false, "\(String(describing: report["inspect"]))")
        XCTAssertEqual(report["inspect_nothing"]?["found"], .bool(false))
        XCTAssertEqual(report["inspect_nothing"]?["data"], .object([]))
        let stream = Self.iopub(report["help_entry"]).first { $0.type == "stream" }?.content
        XCTAssertEqual(stream?["name"]?.string, "stdout")
        XCTAssertTrue(stream?["text"]?.string?.hasPrefix(help) ?? false)
    }

    func testIsCompleteAsTheREPLAsksForMoreLines() throws {
        let r = try Self.report()["is_complete"]
        XCTAssertEqual(r?["function f()"], .object([("status", .string("incomplete")), ("indent", .string("  "))]))
        XCTAssertEqual(r?["x = 1"], .object([("status", .string("complete"))]))
        XCTAssertEqual(r?["x = = 1"], .object([("status", .string("invalid"))]))
        XCTAssertEqual(r?["for i = 1, 3 do\n  if i > 1 then"], .object([("status", .string("incomplete")), ("indent", .string("    "))]))
        XCTAssertEqual(r?["s = [[open"]?["status"]?.string, "incomplete")
        XCTAssertEqual(r?["1 +"]?["status"]?.string, "invalid")
    }

    func testIoReadAsksTheFrontEndWhenItAllowsInput() throws {
        let report = try Self.report()
        XCTAssertEqual(report["input"]?["requests"], .array([.array([.string("input_request"), .bool(true)]), .array([.string("input_request"), .bool(true)])]))
        XCTAssertEqual(Self.iopub(report["input"]).first { $0.type == "stream" }?.content["text"]?.string, "Ada Lovelace\t42\tinteger\n")
        XCTAssertEqual(report["input"]?["reply"]?["status"]?.string, "ok")
        let leftover = report["input_leftover"]?.array ?? []
        XCTAssertEqual(leftover.map { $0["asked"] }, [.int(1), .int(1)])
        XCTAssertEqual(leftover.map { Self.iopub($0).first { $0.type == "execute_result" }?.content["data"]?["text/plain"]?.string },
                       ["\"he\"", "\"world\""])
        let refused = report["input_refused"]?["reply"]
        XCTAssertEqual(refused?["status"]?.string, "error")
        XCTAssertEqual(refused?["evalue"]?.string,
                       "[cell 9]:1: io.read: this front end takes no input (its execute_request says allow_stdin false); give values as notebook parameters instead")
    }

    func testInterruptStopsALoopAndTrainingAndTheKernelLivesOn() throws {
        let report = try Self.report()
        let loop = report["interrupt_loop"]?["reply"]
        XCTAssertEqual(loop?["status"]?.string, "error")
        XCTAssertEqual(loop?["ename"]?.string, "KeyboardInterrupt")
        XCTAssertEqual(Self.iopub(report["after_interrupt"]).first { $0.type == "execute_result" }?.content["data"]?["text/plain"]?.string, "3")

        // Training draws its bar as one display updated in place, and stops at the next
        // iteration with a checkpoint, as Ctrl-C does in the REPL.
        let training = Self.iopub(report["interrupt_training"])
        let raw = report["interrupt_training"]?["iopub"]?.array ?? []
        let displays = raw.filter { $0.array?[0].string == "display_data" || $0.array?[0].string == "update_display_data" }
        XCTAssertEqual(displays.first?.array?[0].string, "display_data")
        XCTAssertTrue(displays.dropFirst().allSatisfy { $0.array?[0].string == "update_display_data" })
        XCTAssertGreaterThanOrEqual(displays.count, 2)
        let ids = Set(displays.compactMap { $0.array?[2]["display_id"]?.string })
        XCTAssertEqual(ids.count, 1, "one display_id for the bar")
        let bar = displays.first?.array?[1]["data"]
        XCTAssertTrue(bar?["text/plain"]?.string?.hasPrefix("train 1/100000") ?? false, "\(String(describing: bar))")
        XCTAssertTrue(bar?["text/html"]?.string?.contains("<progress value=\"1\" max=\"100000\"") ?? false)
        XCTAssertFalse(training.contains { $0.type == "stream" && ($0.content["text"]?.string?.contains("\u{1B}[") ?? false) }, "no terminal control codes")
        let reply = report["interrupt_training"]?["reply"]
        XCTAssertEqual(reply?["ename"]?.string, "KeyboardInterrupt")
        XCTAssertTrue(reply?["evalue"]?.string?.contains("training interrupted after iteration") ?? false, "\(String(describing: reply))")
        XCTAssertTrue(reply?["evalue"]?.string?.contains("trainer:resume_or_load{resume = true}") ?? false)
        XCTAssertEqual(Self.iopub(report["after_training"]).first { $0.type == "execute_result" }?.content["data"]?["text/plain"]?.string, "true")
    }

    func testMessagesSignedWithAnotherKeyOrReplayedAreIgnored() throws {
        let report = try Self.report()
        XCTAssertEqual(report["wrong_key_reply"], .bool(false), "no reply to a message with a bad signature")
        // It did not run: `marker` is still nil (no result shown).
        XCTAssertEqual(Self.iopub(report["wrong_key_effect"]).map(\.type), ["status", "execute_input", "status"])
        XCTAssertEqual(report["replay"]?["first_reply"], .bool(true))
        XCTAssertEqual(report["replay"]?["second_reply"], .bool(false), "a replayed message is dropped")
        XCTAssertEqual(Self.iopub(report["replay"]?["effect"]).first { $0.type == "execute_result" }?.content["data"]?["text/plain"]?.string, "1",
                       "the replayed request ran once")
    }

    func testRestartGivesAFreshStateAndShutdownEndsTheProcess() throws {
        let report = try Self.report()
        XCTAssertEqual(Self.iopub(report["after_restart"]).first { $0.type == "execute_result" }?.content["data"]?["text/plain"]?.string, "true")
        XCTAssertEqual(report["after_restart"]?["reply"]?["execution_count"], .int(1))
        XCTAssertEqual(report["shutdown_clean"], .bool(true))
    }

    /// nbconvert (through nbclient and the kernelspec) and `lunette notebook run` give the same
    /// outputs for the same .ipynb.
    func testNbconvertExecuteGivesTheOutputsOfNotebookRun() throws {
        let i = try Self.installed()
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let source = """
            -- %% [markdown]
            -- # The same notebook two ways

            -- %%
            print("hello from Lua")
            x = 21

            -- %%
            display(require("cv").new_image(8, 6))
            x * 2

            -- %%
            { { brand = "A", share = 0.5 }, { brand = "B", share = 0.25 } }

            -- %%
            io.stderr:write("a warning\\n");

            -- %%
            error("a failure")

            -- %%
            local t = require("torch").zeros(2, 3)
            t, #"after the failure"

            """
        try source.write(toFile: dir + "/nb.lua", atomically: true, encoding: .utf8)
        XCTAssertEqual(try runLunette(["notebook", "convert", "nb.lua", "--to", "nb.ipynb"], directory: dir).status, 0)
        let run = try runLunette(["notebook", "run", "nb.ipynb", "--to", "run.ipynb", "--allow-errors"], directory: dir)
        XCTAssertEqual(run.status, 0, run.stderr)
        let convert = try Self.runTool(["-m", "nbconvert", "--to", "notebook", "--execute", "--allow-errors", "--ExecutePreprocessor.kernel_name=lunette",
                                        "--ExecutePreprocessor.timeout=120", "nb.ipynb", "--output", "kernel.ipynb"], i.environment, directory: dir)
        XCTAssertEqual(convert.status, 0, convert.stderr)
        let compare = """
            import json, sys, nbformat
            a = nbformat.read(sys.argv[1], as_version=4); b = nbformat.read(sys.argv[2], as_version=4)
            def outs(nb):
                return [(c.cell_type, c.get("execution_count"), [dict(o) for o in c.get("outputs", [])]) for c in nb.cells]
            oa, ob = outs(a), outs(b)
            print(json.dumps({"same": oa == ob, "cells": len(oa), "outputs": sum(len(c[2]) for c in oa),
                              "run": oa, "kernel": ob}))
            """
        let r = try Self.runTool(["-c", compare, dir + "/run.ipynb", dir + "/kernel.ipynb"], i.environment)
        XCTAssertEqual(r.status, 0, r.stderr)
        let v = try JSON.parse(Array(r.stdout.utf8))
        XCTAssertEqual(v["same"], .bool(true), r.stdout)
        XCTAssertEqual(v["cells"], .int(7))
        XCTAssertEqual(v["outputs"], .int(8), "stream, display + result, html result, stream, error, two results: \(r.stdout)")
    }

    /// papermill runs a Lua notebook on the kernel (parameters go through `lunette notebook run -p`:
    /// papermill has no Lua translator).
    func testPapermillRunsALuaNotebook() throws {
        let i = try Self.installed()
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "-- %% tags=[\"parameters\"]\nbrand = \"A\"\n\n-- %%\nprint(\"brand \" .. brand)\n\n-- %%\n#brand * 10\n"
            .write(toFile: dir + "/p.lua", atomically: true, encoding: .utf8)
        XCTAssertEqual(try runLunette(["notebook", "convert", "p.lua", "--to", "p.ipynb"], directory: dir).status, 0)
        let r = try Self.runTool(["-m", "papermill", "-k", "lunette", "p.ipynb", "out.ipynb", "--cwd", dir], i.environment, directory: dir)
        XCTAssertEqual(r.status, 0, r.stderr)
        let nb = try JSON.parse(Array(try Data(contentsOf: URL(fileURLWithPath: dir + "/out.ipynb"))))
        let cells = nb["cells"]?.array ?? []
        XCTAssertEqual(cells.count, 3)
        XCTAssertEqual(cells.map { $0["metadata"]?["papermill"]?["status"]?.string }, ["completed", "completed", "completed"])
        XCTAssertEqual(cells[1]["outputs"]?.array?.first?["text"], .array([.string("brand A\n")]))
        XCTAssertEqual(cells[2]["outputs"]?.array?.first?["data"]?["text/plain"], .array([.string("10")]))
        XCTAssertEqual(nb["metadata"]?["kernelspec"]?["name"]?.string, "lunette")
    }

    func testBadConnectionFilesAreClearErrors() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let missing = try runLunette(["kernel", "-f", dir + "/none.json"])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.hasPrefix("lunette kernel: connection file \(dir)/none.json: "), missing.stderr)
        try "{\"shell_port\": 1}".write(toFile: dir + "/c.json", atomically: true, encoding: .utf8)
        let partial = try runLunette(["kernel", "-f", dir + "/c.json"])
        XCTAssertEqual(partial.status, 1)
        XCTAssertEqual(partial.stderr, "lunette kernel: connection file \(dir)/c.json: no \"iopub_port\"\n")
        let usage = try runLunette(["kernel"])
        XCTAssertEqual(usage.status, 2)
        XCTAssertTrue(usage.stderr.hasPrefix("lunette kernel: install, or -f CONNECTION.json\nusage: lunette kernel install"), usage.stderr)
    }
}

struct KernelTestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
