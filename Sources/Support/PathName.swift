/// Path arithmetic Foundation gets wrong here: NSString.deletingLastPathComponent traps on a
/// one-character path ("a", "g") in swift-corelibs-foundation of Swift 6.3, so a file or folder
/// named by one letter would kill the process.
public enum PathName {
    /// The folder part of a path: "" when it names no folder ("a", "a.json"), "/" for a file at
    /// the root; trailing slashes are ignored ("out/runs/" gives "out").
    public static func parent(_ path: String) -> String {
        var p = Substring(path)
        while p.count > 1 && p.hasSuffix("/") { p = p.dropLast() }
        guard let slash = p.lastIndex(of: "/") else { return "" }
        if slash == p.startIndex { return "/" }
        var head = p[..<slash]
        while head.count > 1 && head.hasSuffix("/") { head = head.dropLast() }
        return String(head)
    }
}
