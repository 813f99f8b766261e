import Foundation

/// A file operation that failed, with the path and the system's reason (errno's text).
public struct FileError: Error, CustomStringConvertible {
    public let path: String
    public let message: String
    public init(_ path: String, _ message: String) {
        self.path = path
        self.message = message
    }
    /// `what` failed on `path` for errno's reason.
    public static func errno(_ what: String, _ path: String, _ code: Int32 = Glibc.errno) -> FileError {
        FileError(path, "cannot \(what) \(path): \(String(cString: strerror(code))) (errno \(code))")
    }
    public var description: String { message }
}

/// The one way Lunette replaces a file: the new content goes to a temporary file in the same
/// folder, which is flushed to disk (fsync), renamed over the target, and the folder is synced
/// so the rename itself survives a crash. A failure at any step (a full disk, a kill) leaves
/// the previous file intact and removes the temporary one.
public enum AtomicFile {
    /// The temporary name used while `path` is being written (`<path>.tmp-<pid>`).
    public static func temporaryPath(for path: String) -> String { path + ".tmp-\(getpid())" }

    /// Writes `bytes` to `path`, creating the folder if needed. Contiguous bytes (an Array,
    /// Data, a String's UTF-8) are written in place, never copied: a checkpoint's file image
    /// can be most of a process's memory.
    public static func write(_ bytes: some Collection<UInt8>, to path: String) throws {
        let written: Void? = try bytes.withContiguousStorageIfAvailable { try write(UnsafeRawBufferPointer($0), to: path) }
        if written == nil { try Array(bytes).withUnsafeBytes { try write($0, to: path) } }
    }

    /// Writes `data` in place (Data does not always offer its storage as a collection).
    public static func write(_ data: Data, to path: String) throws {
        try data.withUnsafeBytes { try write($0, to: path) }
    }

    /// Writes `text` as UTF-8 (a native string's bytes in place).
    public static func write(_ text: String, to path: String) throws { try write(text.utf8, to: path) }

    /// The one byte writer the others share.
    public static func write(_ buffer: UnsafeRawBufferPointer, to path: String) throws {
        try write(to: path) { tmp in
            let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw FileError.errno("create", tmp) }
            defer { close(fd) }
            try writeAll(fd, buffer, path: path)
        }
    }

    private static func writeAll(_ fd: Int32, _ buffer: UnsafeRawBufferPointer, path: String) throws {
        var done = 0
        while done < buffer.count {
            let n = Glibc.write(fd, buffer.baseAddress! + done, buffer.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw FileError.errno("write", path)
            }
            done += n
        }
    }

    /// For writers that open the file themselves (libtorch's archive writer): `produce` writes
    /// the temporary path it is given; then it is synced, renamed over `path` and the folder synced.
    public static func write(to path: String, _ produce: (String) throws -> Void) throws {
        guard !path.isEmpty else { throw FileError(path, "cannot write a file with an empty name") }
        guard !path.hasSuffix("/") else { throw FileError(path, "cannot write \(path): the name ends in '/', which names a folder") }
        let folder = PathName.parent(path)
        if !folder.isEmpty && !FileManager.default.fileExists(atPath: folder) {
            do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
                throw FileError(path, "cannot create the folder \(folder) for \(path): \(error.localizedDescription)")
            }
        }
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw FileError(path, "cannot write \(path): it is a folder")
        }
        let tmp = temporaryPath(for: path)
        do {
            try produce(tmp)
            try sync(tmp, writing: path)
            guard rename(tmp, path) == 0 else { throw FileError.errno("rename \(tmp) to", path) }
        } catch {
            unlink(tmp)
            if let e = error as? FileError { throw e }
            throw FileError(path, "cannot write \(path): \(error)")
        }
        syncFolder(folder.isEmpty ? "." : folder)
    }

    private static func sync(_ tmp: String, writing path: String) throws {
        let fd = open(tmp, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileError.errno("reopen the temporary file for", path) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw FileError.errno("flush to disk", path) }
    }

    /// Best effort: some file systems refuse fsync on a folder, and the data is already safe.
    private static func syncFolder(_ folder: String) {
        let fd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }
}
