import CLua
import Foundation
import Glibc

/// Captures what the process writes to stdout and stderr at the file-descriptor level (so C
/// libraries' output, child processes and Lunette's own log lines are caught too). Each stream
/// keeps its order; between the two, chunks are kept in the order their readers got them, which
/// is the order written unless both were written within the same instant.
/// A reader thread per stream drains its pipe at once, so a cell that prints megabytes never
/// blocks; each stream keeps at most `cap` bytes between two `take()`s and counts the rest.
final class OutputCapture: @unchecked Sendable {
    private struct Stream {
        let name: String
        let fd: Int32
        let saved: Int32
        let readEnd: Int32
        var thread: Thread?
    }

    private let lock = NSLock()
    private var chunks: [(stream: Int, bytes: [UInt8])] = []
    private var kept = [0, 0]
    private var dropped = [0, 0]
    private var reading = [false, false]
    private var streams: [Stream] = []
    let cap: Int

    /// A descriptor for the terminal's stderr while capturing (progress lines go there).
    var terminalError: Int32 { streams.count == 2 ? streams[1].saved : STDERR_FILENO }

    init(cap: Int) throws {
        self.cap = cap
        fflush(nil)
        for (i, (name, fd)) in [("stdout", STDOUT_FILENO), ("stderr", STDERR_FILENO)].enumerated() {
            var ends: [Int32] = [0, 0]
            guard pipe(&ends) == 0 else { throw CaptureError("cannot capture \(name): \(String(cString: strerror(errno)))") }
            let saved = dup(fd)
            _ = fcntl(saved, F_SETFD, FD_CLOEXEC)
            _ = fcntl(ends[0], F_SETFD, FD_CLOEXEC)
            dup2(ends[1], fd)
            close(ends[1])
            var s = Stream(name: name, fd: fd, saved: saved, readEnd: ends[0])
            let readEnd = ends[0]
            let t = Thread { [unowned self] in self.readLoop(stream: i, fd: readEnd) }
            t.stackSize = 1 << 20
            s.thread = t
            streams.append(s)
            t.start()
        }
        // Lua's print goes through C's stdout: line by line, so it keeps its place among log lines.
        lh_stdout_line_buffered(1)
    }

    private func readLoop(stream: Int, fd: Int32) {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            if poll(&p, 1, -1) < 0 { if errno == EINTR { continue }; return }
            lock.lock(); reading[stream] = true; lock.unlock()
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            lock.lock()
            defer { reading[stream] = false; lock.unlock() }
            if n < 0 { if errno == EINTR { continue }; return }
            if n == 0 { return }
            let room = max(0, cap - kept[stream])
            let keep = min(room, n)
            if keep > 0 {
                if let last = chunks.last, last.stream == stream {
                    chunks[chunks.count - 1].bytes += buffer[0..<keep]
                } else {
                    chunks.append((stream, Array(buffer[0..<keep])))
                }
                kept[stream] += keep
            }
            dropped[stream] += n - keep
        }
    }

    /// Waits until everything written so far has been read: C's buffers flushed, both pipes empty
    /// (at most a few seconds: a child left running in the background may write for ever).
    private func settle(seconds: Double = 5) {
        fflush(nil)
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            var pending = false
            for s in streams {
                var available: Int32 = 0
                if ioctl(s.readEnd, UInt(FIONREAD), &available) == 0, available > 0 { pending = true }
            }
            lock.lock()
            let busy = reading.contains(true)
            lock.unlock()
            if !pending && !busy { return }
            usleep(200)
        }
    }

    /// What was written since the last take, in order, as (stream name, text); with `closing`,
    /// a note for each stream that went past the cap, and the caps start again. It waits at most
    /// `settle` seconds for the pipes to empty; with 0, only what the readers already got (a
    /// kernel's periodic flush while a cell runs).
    func take(closing: Bool, settle seconds: Double = 5) -> [(name: String, text: String)] {
        // Without settling, only the standard streams are flushed: fflush(NULL) would wait on the
        // lock of a stream another thread is blocked reading (io.stdin:read() in a cell).
        if seconds > 0 { settle(seconds: seconds) } else { lh_flush_standard_streams() }
        lock.lock()
        defer { lock.unlock() }
        // A read may end inside a character: its first bytes wait for the rest (unless closing).
        var held: (stream: Int, bytes: [UInt8])?
        if !closing, let last = chunks.last {
            let n = Self.incompleteTail(last.bytes)
            if n > 0 {
                held = (last.stream, Array(last.bytes.suffix(n)))
                chunks[chunks.count - 1].bytes.removeLast(n)
            }
        }
        var out = chunks.filter { !$0.bytes.isEmpty }.map { (name: streams[$0.stream].name, text: String(decoding: $0.bytes, as: UTF8.self)) }
        chunks.removeAll()
        if let held { chunks.append(held) }
        if closing {
            for i in 0..<2 where dropped[i] > 0 {
                out.append((name: "stderr", text: "[lunette: \(Self.size(dropped[i])) more of \(streams[i].name) was not kept: a cell keeps at most \(Self.size(cap)) of each stream]\n"))
            }
            kept = [0, 0]
            dropped = [0, 0]
        }
        return out
    }

    /// How many bytes at the end begin a UTF-8 character that is not finished (0 to 3).
    static func incompleteTail(_ bytes: [UInt8]) -> Int {
        guard !bytes.isEmpty else { return 0 }
        for back in 1...min(3, bytes.count) {
            let b = bytes[bytes.count - back]
            if b & 0xC0 == 0x80 { continue }           // a continuation byte: look further back
            let length = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1
            return length > back ? back : 0
        }
        return 0
    }

    static func size(_ n: Int) -> String {
        n >= 1 << 20 ? String(format: "%.1f MB", Double(n) / 1048576) : n >= 1024 ? String(format: "%.1f KB", Double(n) / 1024) : "\(n) bytes"
    }

    /// Puts stdout and stderr back and ends the readers.
    func stop() {
        settle()
        for s in streams {
            dup2(s.saved, s.fd)    // the pipe's last write end closes: its reader sees the end
            close(s.saved)
        }
        // A child still holding the pipe (started in the background) keeps its reader from seeing
        // the end; after a moment the reader is left to it rather than waited on for ever.
        let deadline = Date().addingTimeInterval(2)
        for s in streams {
            while s.thread?.isFinished == false, Date() < deadline { usleep(500) }
            if s.thread?.isFinished == true { close(s.readEnd) }
        }
        streams.removeAll()
        lh_stdout_line_buffered(isatty(STDOUT_FILENO) != 0 ? 1 : 0)
    }

    struct CaptureError: Error, CustomStringConvertible {
        let description: String
        init(_ d: String) { description = d }
    }
}
