import Foundation
import Glibc

/// Python's glob.glob(pattern, recursive=True), sorted: `*`, `?` and `[...]` match within one
/// path component (not a leading dot, as the shell), `**` matches any number of folders.
public enum Glob {
    public static func paths(_ pattern: String) -> [String] {
        guard !pattern.isEmpty else { return [] }
        let absolute = pattern.hasPrefix("/")
        let parts = pattern.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        var results: [String] = []
        expand(base: absolute ? "/" : "", parts: parts[...], into: &results)
        // "a/**/b" reaches a/b both directly and through "**" matching nothing: once each.
        return Array(Set(results)).sorted()
    }

    private static func hasMagic(_ s: String) -> Bool { s.contains { "*?[".contains($0) } }

    private static func join(_ base: String, _ name: String) -> String {
        base.isEmpty ? name : (base.hasSuffix("/") ? base + name : base + "/" + name)
    }

    private static func entries(_ folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder.isEmpty ? "." : folder)) ?? []).sorted()
    }

    private static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path.isEmpty ? "." : path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    private static func exists(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0
    }

    private static func expand(base: String, parts: ArraySlice<String>, into results: inout [String]) {
        guard let part = parts.first else {
            if !base.isEmpty && base != "/" { results.append(base) }
            return
        }
        let rest = parts.dropFirst()
        if part == "**" {
            // Zero folders, then every folder below (not hidden ones, as Python).
            expand(base: base, parts: rest, into: &results)
            for name in entries(base) where !name.hasPrefix(".") {
                let path = join(base, name)
                if isDirectory(path) { expand(base: path, parts: parts, into: &results) } else if rest.isEmpty { results.append(path) }
            }
            return
        }
        if !hasMagic(part) {
            let path = join(base, part)
            if rest.isEmpty ? exists(path) : isDirectory(path) { expand(base: path, parts: rest, into: &results) }
            return
        }
        for name in entries(base) {
            guard fnmatch(part, name, FNM_PERIOD) == 0 else { continue }
            let path = join(base, name)
            if rest.isEmpty || isDirectory(path) { expand(base: path, parts: rest, into: &results) }
        }
    }
}
