import Foundation
import Support

/// A kernelspec: the folder (kernel.json and logos) where Jupyter finds a kernel by name, and
/// the places Jupyter looks for one.
public enum KernelSpec {
    /// kernel.json: how Jupyter starts the kernel and what it shows.
    public static func json(argv: [String], displayName: String, language: String = "lua", env: [(String, JSONValue)] = []) -> JSONValue {
        var fields: [(String, JSONValue)] = [
            ("argv", .array(argv.map { .string($0) })),
            ("display_name", .string(displayName)),
            ("language", .string(language)),
            ("interrupt_mode", .string("signal")),
        ]
        if !env.isEmpty { fields.append(("env", .object(env))) }
        fields.append(("metadata", .object([("debugger", .bool(false))])))
        return .object(fields)
    }

    /// Whether Jupyter takes `name` as a kernel name: ASCII letters, digits, '.', '_' and '-'.
    public static func checkName(_ name: String) throws {
        guard !name.isEmpty, name.utf8.allSatisfy({ $0 < 128 && (isalnum(Int32($0)) != 0 || $0 == 46 || $0 == 95 || $0 == 45) }) else {
            throw WireError("kernel name \"\(name)\" may hold only letters, digits, '.', '_' and '-'")
        }
    }

    /// The user's Jupyter data folder as jupyter_core finds it on Linux: JUPYTER_DATA_DIR, else
    /// $XDG_DATA_HOME/jupyter, else ~/.local/share/jupyter.
    public static func userDataDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let d = environment["JUPYTER_DATA_DIR"], !d.isEmpty { return d }
        if let x = environment["XDG_DATA_HOME"], !x.isEmpty { return x + "/jupyter" }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return home + "/.local/share/jupyter"
    }

    /// The system-wide data folder every Jupyter searches (jupyter_core's first system path).
    public static let systemDataDirectory = "/usr/local/share/jupyter"

    /// The kernels folder under a data folder.
    public static func kernelsDirectory(data: String) -> String { data + "/kernels" }
    /// The data folder under an installation prefix (`--prefix DIR`: DIR/share/jupyter).
    public static func dataDirectory(prefix: String) -> String { prefix + "/share/jupyter" }
}
