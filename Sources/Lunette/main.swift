import CLua
import Glibc
import LuaHost
import LunetteLua
import Torch
import Vision

/// `lunette`: the REPL on a terminal, a script runner otherwise; options as lua.c's.
let program = "lunette"
let usage = """
usage: lunette [options] [script [args]]
Available options are:
  -e stat   execute string 'stat'
  -i        enter interactive mode after executing 'script'
  -l mod    require library 'mod' into global 'mod'
  -l g=mod  require library 'mod' into global 'g'
  -v        show version information
  -W        turn warnings on
  -h, --help  show this help and exit
  --        stop handling options
  -         execute stdin and stop handling options
       lunette --launch N script [args]   N local processes of one data-parallel job (as torchrun)
       lunette tune worker DIR   work on the grid search in DIR (claims trials until none is left)
       lunette tune ...          array tasks of a grid search and their collection (lunette tune --help)
       lunette detect ...        bulk detection, merge, features, export, status (lunette detect --help)
       lunette notebook ...      run a -- %% notebook into .ipynb/HTML, or convert (lunette notebook --help)
       lunette kernel install    make Lunette a Jupyter kernel (lunette kernel --help)
With no script, lunette starts the REPL when stdin is a terminal and runs stdin otherwise.
Environment: LUNETTE_PATH (stdlib folders), LUNETTE_HISTORY (REPL history file), NO_COLOR.

"""

enum Action {
    case execute(String)
    case library(String)
    case warnings
}

struct Options {
    var actions: [Action] = []
    var interactive = false
    var version = false
    var scriptIndex: Int?      // index in argv of the script ("-" means stdin)
}

struct UsageError: Error { let message: String }

func parse(_ argv: [String]) -> Result<Options, UsageError> {
    var o = Options()
    var i = 1
    while i < argv.count {
        let a = argv[i]
        if a == "--" { i += 1; if i < argv.count { o.scriptIndex = i }; return .success(o) }
        if a == "-" { o.scriptIndex = i; return .success(o) }
        guard a.hasPrefix("-") else { o.scriptIndex = i; return .success(o) }
        switch a {
        case "-h", "--help":
            Console.out(usage)
            exit(0)
        case "-i": o.interactive = true; o.version = true
        case "-v", "--version": o.version = true
        case "-W": o.actions.append(.warnings)
        case "-e", "-l":
            guard i + 1 < argv.count, !argv[i + 1].hasPrefix("-") else {
                return .failure(UsageError(message: "'\(a)' needs argument"))
            }
            i += 1
            o.actions.append(a == "-e" ? .execute(argv[i]) : .library(argv[i]))
        default:
            if a.hasPrefix("-e") && a.count > 2 {
                o.actions.append(.execute(String(a.dropFirst(2))))
            } else if a.hasPrefix("-l") && a.count > 2 {
                o.actions.append(.library(String(a.dropFirst(2))))
            } else {
                return .failure(UsageError(message: "unrecognized option '\(a)'"))
            }
        }
        i += 1
    }
    return .success(o)
}

func versionLine(_ session: Session?) -> String {
    let lua = session?.state.version ?? "Lua 5.4"
    return "Lunette \(LunetteBindings.version) (\(lua), libtorch \(TorchRuntime.version), OpenCV \(VisionRuntime.version))"
}

/// `lunette tune worker DIR [--task K]`, `lunette tune collect DIR`, `lunette tune tasks DIR`:
/// grid-search work from a shell or a scheduler (a script named `tune` still runs as a script).
func tuneCommand(_ argv: [String]) -> Int32? {
    guard argv.count >= 2, argv[1] == "tune", !Paths.exists("tune") else { return nil }
    let usageText = """
        usage: lunette tune worker DIR              claim and run trials of the search in DIR until none is left
               lunette tune worker DIR --task K     run array task K (from 0) alone, into DIR/trials (SLURM_ARRAY_TASK_ID)
               lunette tune tasks DIR               print how many array tasks the search has
               lunette tune collect DIR             read the array tasks' trial folders into DIR/search.sqlite

        """
    let rest = Array(argv.dropFirst(2))
    let code: String
    switch (rest.first, rest.count) {
    case ("worker"?, 2): code = "print(require('detectron2.tuning').worker(arg[2]))"
    case ("worker"?, 4) where rest[2] == "--task":
        guard Int(rest[3]) != nil else {
            Console.err("lunette tune worker: --task takes an array index (0, 1, ...), not '\(rest[3])'\n")
            return 2
        }
        code = "print(require('detectron2.tuning').run_task(arg[2], math.tointeger(tonumber(arg[4]))))"
    case ("collect"?, 2): code = "print(require('detectron2.tuning').collect(arg[2]))"
    case ("tasks"?, 2): code = "print(require('detectron2.tuning').task_count(arg[2]))"
    case ("-h"?, _), ("--help"?, _):
        Console.out(usageText)
        return 0
    default:
        Console.err(usageText)
        return 2
    }
    let session: Session
    do { session = try Session(scriptDirectory: nil) } catch {
        Console.err("\(program): cannot start: \(error)\n")
        return 1
    }
    session.setArgTable(argv: argv, scriptIndex: 1)     // arg[1] is the verb, arg[2] DIR
    return session.runString(code, name: "=(tune)", program: program, interruptible: true) ? 0 : 1
}

/// `lunette detect ...`: bulk detection from a shell (a script named `detect` still runs as a script).
func detectCommand(_ argv: [String]) -> Int32? {
    guard argv.count >= 2, argv[1] == "detect", !Paths.exists("detect") else { return nil }
    let session: Session
    do { session = try Session(scriptDirectory: nil) } catch {
        Console.err("\(program): cannot start: \(error)\n")
        return 1
    }
    session.setArgTable(argv: argv, scriptIndex: 1)     // arg[1...] are detect's arguments
    return session.runString("local a = {} for i = 1, #arg do a[i] = arg[i] end print(require('detectron2.engine').detect_command(a))", name: "=(detect)", program: program,
                             interruptible: true) ? 0 : 1
}

/// `lunette notebook ...` (a script named `notebook` still runs as a script).
func notebookCommand(_ argv: [String]) -> Int32? {
    guard argv.count >= 2, argv[1] == "notebook", !Paths.exists("notebook") else { return nil }
    return NotebookCommand.main(Array(argv.dropFirst(2)))
}

/// `lunette kernel ...` (a script named `kernel` still runs as a script).
func kernelCommand(_ argv: [String]) -> Int32? {
    guard argv.count >= 2, argv[1] == "kernel", !Paths.exists("kernel") else { return nil }
    return KernelCommand.main(Array(argv.dropFirst(2)))
}

func main() -> Int32 {
    let argv = CommandLine.arguments
    if let status = Launcher.main(argv) { return status }
    if let status = tuneCommand(argv) { return status }
    if let status = kernelCommand(argv) { return status }
    if let status = detectCommand(argv) { return status }
    if let status = notebookCommand(argv) { return status }
    let options: Options
    switch parse(argv) {
    case .success(let o): options = o
    case .failure(let e):
        Console.err("\(program): \(e.message)\n\(usage)")
        return 1
    }
    let scriptPath = options.scriptIndex.map { argv[$0] }
    let scriptDirectory = scriptPath.flatMap { $0 == "-" ? nil : Paths.directory(of: $0) }
    let session: Session
    do {
        session = try Session(scriptDirectory: scriptDirectory)
    } catch {
        Console.err("\(program): cannot start: \(error)\n")
        return 1
    }
    session.setArgTable(argv: argv, scriptIndex: options.scriptIndex)

    let stdinIsTTY = Terminal.isTTY(0)
    let hasExecute = options.actions.contains { if case .execute = $0 { return true } else { return false } }
    // As lua.c: with no script, no -e and no -v, run the REPL on a terminal and stdin otherwise.
    let noArguments = options.scriptIndex == nil && !hasExecute && !options.version
    if options.version || (noArguments && stdinIsTTY) { Console.out(versionLine(session) + "\n") }

    for action in options.actions {
        switch action {
        case .execute(let code):
            if !session.runString(code, name: "=(command line)", program: program) { return 1 }
        case .library(let spec):
            if !session.requireLibrary(spec, program: program) { return 1 }
        case .warnings:
            lua_warning(session.L, "@on", 0)
        }
    }
    if let index = options.scriptIndex {
        let path = argv[index]
        let arguments = Array(argv[(index + 1)...])
        if path != "-", !Paths.exists(path) {
            Console.err(Terminal.red("\(program): cannot open \(path): no such file", session.colorErrors) + "\n")
            return 1
        }
        if !session.runFile(path == "-" ? nil : path, arguments: arguments, program: program) { return 1 }
    }
    if options.interactive || (noArguments && stdinIsTTY) {
        return REPL(session: session).run()
    }
    if noArguments && !stdinIsTTY {
        if !session.runFile(nil, arguments: [], program: program) { return 1 }
    }
    return 0
}

exit(main())
