import Foundation

/// A whole file read into memory (64-byte aligned, so tensors can be wrapped in place).
/// Read, never memory-mapped: another process truncating the file cannot fault us (SIGBUS).
public final class FileBytes: @unchecked Sendable {
    public let base: UnsafeMutableRawPointer
    public let count: Int

    init(count: Int) throws {
        var p: UnsafeMutableRawPointer?
        guard posix_memalign(&p, 64, max(count, 1)) == 0, let p else { throw InputError("cannot allocate \(count) bytes") }
        base = p
        self.count = count
    }

    deinit { free(base) }

    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }
}

/// The one place Lunette opens a file it reads: the path must name a regular, readable file,
/// not a folder, a FIFO or a device; every error names the path and the reason.
public enum InputFile {
    /// An open descriptor for reading (the caller closes it), after the checks above.
    public static func open(_ path: String) throws -> Int32 {
        var st = stat()
        guard stat(path, &st) == 0 else { throw FileError.errno("open", path) }
        switch st.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR: throw FileError(path, "cannot read \(path): it is a folder, not a file")
        case S_IFIFO: throw FileError(path, "cannot read \(path): it is a pipe (FIFO), not a file")
        default: throw FileError(path, "cannot read \(path): it is not a regular file")
        }
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileError.errno("open", path) }
        return fd
    }

    /// The whole file. `limit` refuses files larger than that many bytes.
    public static func read(_ path: String, limit: Int = Int.max) throws -> FileBytes {
        let fd = try open(path)
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw FileError.errno("read", path) }
        let size = Int(st.st_size)
        guard size <= limit else { throw FileError(path, "cannot read \(path): \(size) bytes is more than the \(limit) allowed for it") }
        let out = try FileBytes(count: size)
        var done = 0
        while done < size {
            let n = Glibc.read(fd, out.base + done, size - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw FileError.errno("read", path)
            }
            if n == 0 { throw FileError(path, "cannot read \(path): it was truncated while being read (\(done) of \(size) bytes)") }
            done += n
        }
        return out
    }

    /// The whole file as Data.
    public static func data(_ path: String, limit: Int = Int.max) throws -> Data {
        let f = try read(path, limit: limit)
        return Data(bytes: f.base, count: f.count)
    }

    /// The file as UTF-8 text; invalid UTF-8 is an error naming the file (never replaced by U+FFFD).
    public static func text(_ path: String, limit: Int = Int.max) throws -> String {
        let f = try read(path, limit: limit)
        guard let s = String(validating: f.bytes, as: UTF8.self) else {
            throw FileError(path, "\(path) is not valid UTF-8 text")
        }
        return s
    }

    /// Up to `count` bytes from the start (format sniffing).
    public static func head(_ path: String, count: Int) throws -> [UInt8] {
        let fd = try open(path)
        defer { close(fd) }
        var out = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = out.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + done, count - done) }
            if n < 0 { if errno == EINTR { continue }; throw FileError.errno("read", path) }
            if n == 0 { break }
            done += n
        }
        return Array(out.prefix(done))
    }
}
