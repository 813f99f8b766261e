import Glibc

/// Where the shipped Lua standard library lives: LUNETTE_PATH (folders separated by ':'), else
/// beside the executable (stdlib/ or ../share/lunette/stdlib), else the source tree the
/// executable was built in (found by walking up from the executable to Package.swift).
enum Paths {
    static var executable: String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        return n > 0 ? String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : CommandLine.arguments[0]
    }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    static var stdlibFolders: [String] {
        if let env = getenv("LUNETTE_PATH").map({ String(cString: $0) }), !env.isEmpty {
            return env.split(separator: ":").map(String.init)
        }
        let exeDir = directory(of: executable)
        for candidate in ["\(exeDir)/stdlib", "\(exeDir)/../share/lunette/stdlib"] where isDirectory(candidate) {
            return [candidate]
        }
        var dir = exeDir
        for _ in 0..<6 {
            if exists("\(dir)/Package.swift"), isDirectory("\(dir)/stdlib") { return ["\(dir)/stdlib"] }
            dir = directory(of: dir)
            if dir == "/" { break }
        }
        return []
    }

    /// package.path: modules beside the running script first, then the stdlib, then Lua's default.
    static func packagePath(scriptDirectory: String?, defaultPath: String) -> String {
        var parts: [String] = []
        if let d = scriptDirectory { parts += ["\(d)/?.lua", "\(d)/?/init.lua"] }
        for s in stdlibFolders { parts += ["\(s)/?.lua", "\(s)/?/init.lua"] }
        parts.append(defaultPath)
        return parts.joined(separator: ";")
    }

    static var historyFile: String {
        if let h = getenv("LUNETTE_HISTORY").map({ String(cString: $0) }), !h.isEmpty { return h }
        let home = getenv("HOME").map { String(cString: $0) } ?? "."
        return "\(home)/.lunette_history"
    }
}
