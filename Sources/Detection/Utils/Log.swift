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
    private var muted = 0
    /// This process's rank in a data-parallel job: above 0, progress lines are left to rank 0
    /// and warnings say which rank gives them (Detectron2's setup_logger per rank).
    public var rank = 0

    public func warn(_ source: String, _ message: String) { record("WARNING \(rankTag)[\(source)] \(message)") }

    /// A warning given once per process for each `key` (a precision the hardware cannot run:
    /// every model built after the first would repeat it).
    public func warnOnce(_ source: String, key: String, _ message: String) {
        if firstTime(key) { warn(source, message) }
    }

    /// A progress note given once per process for each `key`.
    public func infoOnce(_ source: String, key: String, _ message: String) {
        if firstTime(key) { info(source, message) }
    }

    private func firstTime(_ key: String) -> Bool { lock.withLock { said.insert(key).inserted } }

    private var said = Set<String>()

    /// Forgets which once-only warnings were given (tests that check one is given once).
    public func forgetWarningsGivenOnce() { lock.withLock { said = [] } }

    private var rankTag: String { rank > 0 ? "[rank \(rank)] " : "" }

    /// Something failed and the work went on without it (a grid-search trial that failed).
    public func error(_ source: String, _ message: String) { record("ERROR \(rankTag)[\(source)] \(message)") }

    /// Runs `body` with its warnings dropped: for checks that build objects only to compare them
    /// (a grid search's schedules), whose warnings the real build will give once.
    public func quietly<T>(_ body: () throws -> T) rethrows -> T {
        lock.withLock { muted += 1 }
        defer { lock.withLock { muted -= 1 } }
        return try body()
    }

    private func record(_ line: String) {
        lock.lock()
        if muted > 0 { lock.unlock(); return }
        recent.append(line)
        if recent.count > 1000 { recent.removeFirst(recent.count - 1000) }
        lock.unlock()
        if echo { StatusConsole.line(line) }
    }

    public func info(_ source: String, _ message: String) {
        if echo && rank == 0 { StatusConsole.line("[\(source)] \(message)") }
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
