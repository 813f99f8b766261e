import Foundation
import Support

/// Warnings and progress from the detection layer: written to stderr (never stdout, which
/// carries results) and kept for whoever wants to inspect them (tests, the Lua layer).
public final class DetectionLog: @unchecked Sendable {
    public static let shared = DetectionLog()
    private let lock = NSLock()
    private var recent: [String] = []
    /// Set to false to keep warnings only in memory (tests).
    public var echo = true

    public func warn(_ source: String, _ message: String) {
        let line = "WARNING [\(source)] \(message)"
        lock.lock()
        recent.append(line)
        if recent.count > 1000 { recent.removeFirst(recent.count - 1000) }
        lock.unlock()
        if echo { StatusConsole.line(line) }
    }

    public func info(_ source: String, _ message: String) {
        if echo { StatusConsole.line("[\(source)] \(message)") }
    }

    /// Warnings recorded since the last call.
    public func takeWarnings() -> [String] {
        lock.lock()
        defer { lock.unlock() }
        let r = recent
        recent = []
        return r
    }
}
