import Foundation
import XCTest

/// The built `lunette` sits beside the test bundle in the build folder.
let lunettePath: String = {
    let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    return exe.deletingLastPathComponent().appendingPathComponent("lunette").path
}()

struct RunResult {
    var status: Int32
    var stdout: String
    var stderr: String
    /// The signal that ended the process (a crash), if one did.
    var signal: Int32?
}

func runLunette(_ arguments: [String], stdin: String? = nil, environment: [String: String] = [:],
                directory: String? = nil) throws -> RunResult {
    try runBuilt(lunettePath, arguments, stdin: stdin, environment: environment, directory: directory)
}

/// Runs a program of this build (`lunette`, `lunette-fuzz`) to its end.
func runBuilt(_ executable: String, _ arguments: [String], stdin: String? = nil, environment: [String: String] = [:],
              directory: String? = nil) throws -> RunResult {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: executable)
    p.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    env["NO_COLOR"] = "1"
    for (k, v) in environment { env[k] = v }
    p.environment = env
    if let directory { p.currentDirectoryURL = URL(fileURLWithPath: directory) }
    let out = Pipe(), err = Pipe(), input = Pipe()
    p.standardOutput = out
    p.standardError = err
    p.standardInput = input
    try p.run()
    if let stdin { input.fileHandleForWriting.write(stdin.data(using: .utf8)!) }
    try input.fileHandleForWriting.close()
    // stderr is drained on its own thread: a child that fills one pipe while we wait on the
    // other would otherwise block forever.
    final class Box: @unchecked Sendable { var data = Data() }
    let errors = Box()
    let drained = DispatchSemaphore(value: 0)
    let errHandle = err.fileHandleForReading
    DispatchQueue.global().async {
        errors.data = errHandle.readDataToEndOfFile()
        drained.signal()
    }
    let o = out.fileHandleForReading.readDataToEndOfFile()
    drained.wait()
    let e = errors.data
    p.waitUntilExit()
    return RunResult(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self),
                     signal: p.terminationReason == .uncaughtSignal ? p.terminationStatus : nil)
}

func scratchDirectory() throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lunette-cli-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir.path
}

final class CLITests: XCTestCase {
    func testScriptWithArguments() throws {
        let dir = try scratchDirectory()
        let script = "\(dir)/args.lua"
        try "#!/usr/bin/env lunette\nprint(#arg, arg[0], arg[1], arg[2], select('#', ...), ...)\nprint(arg[-1] ~= nil)\n"
            .write(toFile: script, atomically: true, encoding: .utf8)
        let r = try runLunette([script, "a", "b c"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "2\t\(script)\ta\tb c\t2\ta\tb c\ntrue\n")
        XCTAssertEqual(r.stderr, "")
    }

    func testExecuteOptionAndExitCodes() throws {
        let ok = try runLunette(["-e", "print(6 * 7)"])
        XCTAssertEqual(ok.status, 0)
        XCTAssertEqual(ok.stdout, "42\n")
        let bad = try runLunette(["-e", "local x = nil; print(x.y)"])
        XCTAssertEqual(bad.status, 1)
        XCTAssertEqual(bad.stdout, "")
        XCTAssertTrue(bad.stderr.hasPrefix("lunette: (command line):1: attempt to index a nil value (local 'x')\nstack traceback:"), bad.stderr)
        let syntax = try runLunette(["-e", "x = = 1"])
        XCTAssertEqual(syntax.status, 1)
        XCTAssertEqual(syntax.stderr, "lunette: (command line):1: unexpected symbol near '='\n")
        let exitCode = try runLunette(["-e", "os.exit(3)"])
        XCTAssertEqual(exitCode.status, 3)
    }

    func testRuntimeErrorInScriptNamesFileAndLine() throws {
        let dir = try scratchDirectory()
        let script = "\(dir)/fail.lua"
        try "local function inner()\n  error('it broke')\nend\ninner()\n".write(toFile: script, atomically: true, encoding: .utf8)
        let r = try runLunette(["fail.lua"], directory: dir)
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.hasPrefix("lunette: fail.lua:2: it broke\nstack traceback:"), r.stderr)
        XCTAssertTrue(r.stderr.contains("fail.lua:4: in main chunk"), r.stderr)
    }

    func testErrorValuesThatAreTables() throws {
        let r = try runLunette(["-e", "error({code = 1})"])
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stderr, "lunette: (error object is a table value)\n")
        let s = try runLunette(["-e", "error(setmetatable({}, {__tostring = function() return 'custom error' end}))"])
        XCTAssertEqual(s.stderr, "lunette: custom error\n")
    }

    func testMissingScriptAndBadOptions() throws {
        let missing = try runLunette(["/nonexistent/script.lua"])
        XCTAssertEqual(missing.status, 1)
        XCTAssertEqual(missing.stderr, "lunette: cannot open /nonexistent/script.lua: no such file\n")
        let option = try runLunette(["-x"])
        XCTAssertEqual(option.status, 1)
        XCTAssertTrue(option.stderr.hasPrefix("lunette: unrecognized option '-x'\nusage: lunette"), option.stderr)
        let needs = try runLunette(["-e"])
        XCTAssertEqual(needs.status, 1)
        XCTAssertTrue(needs.stderr.hasPrefix("lunette: '-e' needs argument"), needs.stderr)
        let help = try runLunette(["--help"])
        XCTAssertEqual(help.status, 0)
        XCTAssertTrue(help.stdout.hasPrefix("usage: lunette [options] [script [args]]"))
    }

    func testSwiftFunctionWithWrongArgumentTypes() throws {
        let r = try runLunette(["-e", "require('torch').set_num_threads('many')"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.hasPrefix("lunette: (command line):1: bad argument #1 to 'torch.set_num_threads' (integer expected, got string)"), r.stderr)
    }

    func testStdinThatIsNotATerminalRunsAsAScript() throws {
        let r = try runLunette([], stdin: "local t = {}\nfor i = 1, 3 do t[#t + 1] = i * i end\nprint(table.concat(t, ','))\n")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "1,4,9\n")
        let failing = try runLunette(["-"], stdin: "error('from stdin')\n")
        XCTAssertEqual(failing.status, 1)
        XCTAssertTrue(failing.stderr.hasPrefix("lunette: stdin:1: from stdin"), failing.stderr)
    }

    func testLibraryOptionAndVersion() throws {
        let r = try runLunette(["-l", "t=torch", "-e", "print(type(t.get_num_threads()))"])
        XCTAssertEqual(r.stdout, "number\n")
        let v = try runLunette(["-v"])
        XCTAssertEqual(v.status, 0)
        XCTAssertTrue(v.stdout.hasPrefix("Lunette "), v.stdout)
        XCTAssertTrue(v.stdout.contains("Lua 5.4"), v.stdout)
    }

    func testRequireFindsModulesBesideTheScriptAndInTheStdlib() throws {
        let dir = try scratchDirectory()
        try "return {greet = function(n) return 'hello ' .. n end}\n".write(toFile: "\(dir)/helper.lua", atomically: true, encoding: .utf8)
        try "print(require('helper').greet('analyst'))\n".write(toFile: "\(dir)/main.lua", atomically: true, encoding: .utf8)
        let r = try runLunette(["\(dir)/main.lua"], directory: "/")
        XCTAssertEqual(r.stdout, "hello analyst\n", r.stderr)

        let lib = try scratchDirectory()
        try FileManager.default.createDirectory(atPath: "\(lib)/pkg", withIntermediateDirectories: true)
        try "return 'from LUNETTE_PATH'\n".write(toFile: "\(lib)/pkg/init.lua", atomically: true, encoding: .utf8)
        let s = try runLunette(["-e", "print((require('pkg')))"], environment: ["LUNETTE_PATH": lib])
        XCTAssertEqual(s.stdout, "from LUNETTE_PATH\n", s.stderr)
    }

    func testShippedStdlibIsFound() throws {
        let r = try runLunette(["-e", "print(package.path:find('/stdlib/?.lua', 1, true) ~= nil)"])
        XCTAssertEqual(r.stdout, "true\n", r.stderr)
    }

    func testHelpInBatchMode() throws {
        let r = try runLunette(["-e", "help(require('torch').set_num_threads)"])
        XCTAssertEqual(r.stdout, "torch.set_num_threads(n)\n  Sets the intra-op thread count.\n  parameters:\n    n: integer\n")
        let unknown = try runLunette(["-e", "help('no.such.thing')"])
        XCTAssertEqual(unknown.stdout, "No documentation for 'no.such.thing'. Try help() for the list of modules.\n")
    }
}
