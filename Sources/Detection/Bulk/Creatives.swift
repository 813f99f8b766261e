import Foundation
import Support

/// The creatives a bulk job reads: a folder (recursive), a glob, a list file (one path per
/// line, relative to the list's folder), one file, or explicit paths; each an image or a video
/// by its extension.
public enum Creatives {
    public static let imageExtensions: Set<String> = ["jpg", "jpeg", "png", "bmp", "tif", "tiff", "webp", "jp2", "pbm", "pgm", "ppm", "pnm"]
    public static let videoExtensions: Set<String> = ["mp4", "mov", "avi", "mkv", "webm", "m4v", "mpg", "mpeg", "wmv", "flv", "gif", "3gp", "ts"]

    public enum Kind: String, Sendable { case image, video }

    public static func kind(of path: String) -> Kind? {
        let ext = (path as NSString).pathExtension.lowercased()
        if imageExtensions.contains(ext) { return .image }
        if videoExtensions.contains(ext) { return .video }
        return nil
    }

    /// A listing: the paths, and the root that shard hashes and ids are taken relative to.
    public struct Listing: Sendable {
        public var paths: [String]
        /// The folder the paths are under (a folder input), nil otherwise.
        public var root: String?
        /// What was given, for messages.
        public var source: String
        public init(paths: [String], root: String?, source: String) {
            self.paths = paths
            self.root = root
            self.source = source
        }
    }

    /// Resolves a string input: a folder, a glob pattern, a list file or a single creative.
    public static func list(_ input: String) throws -> Listing {
        guard !input.isEmpty else { throw DataError("images is empty: give a folder, a glob such as \"creatives/*.jpg\", a list file or a table of paths") }
        var isDir: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: input, isDirectory: &isDir)
        if exists && isDir.boolValue { return try folder(input) }
        if !exists && input.contains(where: { "*?[".contains($0) }) {
            let paths = Glob.paths(input).filter { !isDirectory($0) }
            guard !paths.isEmpty else { throw DataError("images = \"\(input)\": the pattern matches no file") }
            let usable = paths.filter { kind(of: $0) != nil }
            guard !usable.isEmpty else { throw DataError("images = \"\(input)\": none of the \(paths.count) files it matches is an image or a video (\(sample(paths)))") }
            return Listing(paths: usable, root: nil, source: input)
        }
        guard exists else { throw DataError("images = \"\(input)\": no such file or folder") }
        if kind(of: input) != nil { return Listing(paths: [input], root: nil, source: input) }
        return try listFile(input)
    }

    static func isDirectory(_ p: String) -> Bool {
        var d: ObjCBool = false
        return FileManager.default.fileExists(atPath: p, isDirectory: &d) && d.boolValue
    }

    static func sample(_ paths: [String]) -> String {
        paths.prefix(3).map { ($0 as NSString).lastPathComponent }.joined(separator: ", ") + (paths.count > 3 ? ", ..." : "")
    }

    /// Every image and video under a folder (hidden files and folders skipped), sorted; other
    /// files are counted and named in the log.
    public static func folder(_ dir: String) throws -> Listing {
        guard let walker = FileManager.default.enumerator(atPath: dir) else { throw DataError("images = \"\(dir)\": the folder cannot be read") }
        var paths: [String] = [], others: [String] = []
        while let rel = walker.nextObject() as? String {
            let name = (rel as NSString).lastPathComponent
            if name.hasPrefix(".") {
                if isDirectory((dir as NSString).appendingPathComponent(rel)) { walker.skipDescendants() }
                continue
            }
            let full = (dir as NSString).appendingPathComponent(rel)
            if isDirectory(full) { continue }
            if kind(of: full) != nil { paths.append(full) } else { others.append(full) }
        }
        paths.sort()
        if paths.isEmpty {
            if others.isEmpty { throw DataError("images = \"\(dir)\": the folder holds no file") }
            throw DataError("images = \"\(dir)\": the folder holds no image or video (\(others.count) other file\(others.count == 1 ? "" : "s"): \(sample(others.sorted()))); "
                            + "images are \(imageExtensions.sorted().joined(separator: ", ")); videos \(videoExtensions.sorted().joined(separator: ", "))")
        }
        if !others.isEmpty {
            DetectionLog.shared.info("detect_batch", "\(dir): \(others.count) file\(others.count == 1 ? " is" : "s are") neither an image nor a video and left out (\(sample(others.sorted())))")
        }
        return Listing(paths: paths, root: dir, source: dir)
    }

    /// A text file with one path per line (blank lines and lines starting with # skipped);
    /// relative paths are taken from the list's folder.
    public static func listFile(_ path: String) throws -> Listing {
        let text: String
        do { text = try InputFile.text(path, limit: 1 << 28) } catch { throw DataError("images = \"\(path)\": \(error)") }
        let base = PathName.parent(path)
        var paths: [String] = []
        for (i, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.contains("\0") { throw DataError("images = \"\(path)\": line \(i + 1) holds a NUL byte; a list file is one path per line") }
            paths.append(line.hasPrefix("/") || base.isEmpty ? line : (base as NSString).appendingPathComponent(line))
        }
        guard !paths.isEmpty else { throw DataError("images = \"\(path)\": the list names no file (one path per line)") }
        let known = paths.filter { kind(of: $0) != nil }.count
        if known == 0 && paths.count > 0 && !text.utf8.prefix(4096).allSatisfy({ $0 >= 9 && $0 != 0x7f }) {
            throw DataError("images = \"\(path)\": not a list of paths (binary content); give a folder, a glob, a list file or a table of paths")
        }
        return Listing(paths: paths, root: base.isEmpty ? nil : base, source: path)
    }

    /// The path as the shard hash and the creative id see it: relative to the listing's root
    /// when under it (so the same creatives hash alike wherever they are mounted).
    public static func relative(_ path: String, root: String?) -> String {
        guard let root, !root.isEmpty else { return path }
        let r = root.hasSuffix("/") ? root : root + "/"
        return path.hasPrefix(r) ? String(path.dropFirst(r.count)) : path
    }

    /// Which shard (1...count) a path belongs to: the first 8 bytes of its SHA-256, modulo count.
    public static func shard(of key: String, count: Int) -> Int {
        let hex = Digest.sha256(key).prefix(16)
        return Int(UInt64(hex, radix: 16)! % UInt64(count)) + 1
    }
}
