import Drawing
import Foundation
import Glibc
import Jupyter
import LuaHost
import Support

/// `lunette kernel ...`: install the kernelspec, or run the kernel Jupyter starts.
enum KernelCommand {
    static let usage = """
    usage: lunette kernel install [--user | --prefix DIR] [--name NAME] [--display-name TEXT]
           lunette kernel -f CONNECTION.json
    install: writes a kernelspec (kernel.json and logos) where Jupyter finds it, so JupyterLab,
         VS Code, nbconvert and papermill can run Lua notebooks on Lunette (`jupyter kernelspec
         list` shows it; `jupyter kernelspec uninstall NAME` removes it).
      --user            for this user only (JUPYTER_DATA_DIR, else ~/.local/share/jupyter)
      --prefix DIR      under DIR/share/jupyter (a virtual environment: --prefix "$VIRTUAL_ENV")
                        (neither: for every user, under \(KernelSpec.systemDataDirectory))
      --name NAME       the kernel's name (default lunette: jupyter ... --kernel lunette)
      --display-name T  the name front ends show (default "Lunette (Lua 5.4)")
    -f FILE: serves the Jupyter messaging protocol on the ports FILE names (Jupyter starts
         the kernel so; it is not run by hand).

    """

    struct UsageError: Error, CustomStringConvertible { let description: String }

    static func main(_ args: [String]) -> Int32 {
        do {
            switch args.first {
            case "install": return try install(Array(args.dropFirst()))
            case "-f", "--connection-file", "--f":
                guard args.count == 2 else { throw UsageError(description: "\(args[0]) takes one connection file") }
                return try run(connectionFile: args[1])
            case let a? where a.hasPrefix("--f=") || a.hasPrefix("-f="):
                guard args.count == 1 else { throw UsageError(description: "one connection file") }
                return try run(connectionFile: String(a.drop { $0 != "=" }.dropFirst()))
            case "-h", "--help", "help": Console.out(usage); return 0
            case nil: throw UsageError(description: "install, or -f CONNECTION.json")
            case let a?: throw UsageError(description: "unknown kernel command \"\(a)\"")
            }
        } catch let e as UsageError {
            Console.err("lunette kernel: \(e.description)\n\(usage)")
            return 2
        } catch {
            Console.err("lunette kernel: \(error)\n")
            return 1
        }
    }

    static func run(connectionFile: String) throws -> Int32 {
        let kernel = try Kernel(connectionFile: connectionFile)
        return kernel.serve()
    }

    /// The running executable, as an absolute path (what kernel.json starts).
    static var executablePath: String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        if n > 0 { return String(cString: buffer) }
        return NotebookCommand.absolute(CommandLine.arguments[0])
    }

    static func install(_ args: [String]) throws -> Int32 {
        var user = false
        var prefix: String?
        var name = "lunette"
        var displayName = "Lunette (Lua 5.4)"
        var i = 0
        func value(_ flag: String) throws -> String {
            guard i + 1 < args.count else { throw UsageError(description: "\(flag) needs a value") }
            i += 1
            return args[i]
        }
        while i < args.count {
            switch args[i] {
            case "--user": user = true
            case "--prefix": prefix = try value("--prefix")
            case "--name": name = try value("--name")
            case "--display-name": displayName = try value("--display-name")
            case let a: throw UsageError(description: "unknown option \(a)")
            }
            i += 1
        }
        if user && prefix != nil { throw UsageError(description: "--user and --prefix name two places; give one") }
        do { try KernelSpec.checkName(name) } catch let e as WireError { throw UsageError(description: e.description) }
        guard !displayName.trimmingSpaces.isEmpty else { throw UsageError(description: "--display-name needs some text") }
        let data = user ? KernelSpec.userDataDirectory() : prefix.map { KernelSpec.dataDirectory(prefix: NotebookCommand.absolute($0)) }
            ?? KernelSpec.systemDataDirectory
        let folder = KernelSpec.kernelsDirectory(data: data) + "/" + name.lowercased()
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            let hint = !user && prefix == nil ? "; --user installs it for you alone" : ""
            throw FileError(folder, "cannot make the kernelspec folder (\(String(describing: (error as NSError).localizedDescription)))\(hint)")
        }
        let spec = KernelSpec.json(argv: [executablePath, "kernel", "-f", "{connection_file}"], displayName: displayName)
        do {
            try AtomicFile.write(JSON.text(spec, indent: 1) + "\n", to: folder + "/kernel.json")
        } catch let e as FileError {
            let hint = !user && prefix == nil ? " (--user installs it for you alone)" : ""
            throw FileError(e.path, e.message + hint)
        }
        try logo(size: 32).save(folder + "/logo-32x32.png")
        try logo(size: 64).save(folder + "/logo-64x64.png")
        try logo(size: 64).save(folder + "/logo-svg.svg")
        Console.out("installed kernelspec \(name.lowercased()) in \(folder)\n")
        if !user, let prefix { Console.out("Jupyter finds it when run from that prefix, or with JUPYTER_PATH=\(KernelSpec.dataDirectory(prefix: NotebookCommand.absolute(prefix)))\n") }
        return 0
    }

    /// Lunette's logo: a pair of spectacles (lunettes) in the front end's launcher.
    static func logo(size: Double) throws -> Figure {
        let f = try Figure(width: size, height: size)
        f.background = nil
        let s = size / 64
        let frame = RGBA(31, 78, 121), glass = RGBA(120, 180, 230, alpha: 0.55)
        for x in [19.0, 45.0] {
            f.circle(x: x * s, y: 36 * s, r: 12 * s, fill: glass, stroke: frame, lineWidth: 4.5 * s)
        }
        f.line([(29 * s, 32 * s), (32 * s, 29.5 * s), (35 * s, 32 * s)], color: frame, width: 4 * s)
        f.line([(7.5 * s, 33 * s), (3 * s, 24 * s)], color: frame, width: 4 * s)
        f.line([(56.5 * s, 33 * s), (61 * s, 24 * s)], color: frame, width: 4 * s)
        return f
    }
}
