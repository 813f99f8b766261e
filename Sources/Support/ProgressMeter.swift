import Foundation

/// Progress of long work (training, inference over a dataset, grid search, bulk detection).
/// On a terminal: one bar redrawn in place, at most five times a second, with the count, the
/// rate and an ETA from the rate of this run (items resumed from an earlier run do not count
/// towards the rate). Elsewhere: a plain line every `plainEvery` seconds and at the end.
public final class ProgressMeter {
    /// Shown before the bar (a grid search renames it as its trials finish).
    public var title: String
    public let total: Int
    public let unit: String
    public let interactive: Bool
    /// Seconds between plain lines when not on a terminal.
    public var plainEvery: Double
    private let clock: () -> Double
    private var startDone = 0
    private var started = 0.0
    private var lastDraw = -Double.infinity
    private var lastPlain = -Double.infinity
    private(set) public var done = 0
    private var active = false

    public init(title: String, total: Int, unit: String = "it", interactive: Bool = StatusConsole.isInteractive,
                plainEvery: Double = 5, clock: @escaping () -> Double = { Date().timeIntervalSinceReferenceDate }) {
        self.title = title
        self.total = max(total, 0)
        self.unit = unit
        self.interactive = interactive
        self.plainEvery = plainEvery
        self.clock = clock
    }

    /// Starts timing; `alreadyDone` items (resumed work) are not counted in the rate.
    public func begin(alreadyDone: Int = 0) {
        startDone = alreadyDone
        done = alreadyDone
        started = clock()
        active = true
    }

    /// Items per second in this run (nil before the first item).
    public var rate: Double? {
        let n = done - startDone, t = clock() - started
        guard n > 0, t > 0 else { return nil }
        return Double(n) / t
    }

    /// Seconds left at this run's rate (nil before the first item); 0 when finished.
    public var eta: Double? {
        if done >= total { return 0 }
        return rate.map { Double(total - done) / $0 }
    }

    /// Records that `done` items are finished, with a status text (losses, say); `eta` overrides
    /// the rate-based estimate (the trainer's, from the median iteration time).
    public func update(done: Int, status: String = "", eta: Double? = nil) {
        self.done = done
        let now = clock()
        let finished = done >= total
        if StatusConsole.progressSuppressed { return }
        if interactive {
            guard finished || now - lastDraw >= 0.2 else { return }
            lastDraw = now
            StatusConsole.showBar(bar(status: status, eta: eta ?? self.eta))
        } else if finished || now - lastPlain >= plainEvery {
            lastPlain = now
            StatusConsole.line(plainLine(status: status, eta: eta ?? self.eta))
        }
    }

    /// Ends the bar (its last state stays on screen).
    public func finish() {
        guard active else { return }
        active = false
        if interactive { StatusConsole.endBar() }
    }

    public func barLine(status: String, eta: Double?) -> String { bar(status: status, eta: eta).line }

    /// The bar's state: its line as a terminal shows it, and its parts for other displays.
    public func bar(status: String, eta: Double?) -> ProgressBar {
        let fraction = total == 0 ? 1 : min(Double(done) / Double(total), 1)
        let width = 20
        let filled = Int(fraction * Double(width))
        var glyphs = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        if StatusConsole.barSink == nil, StatusConsole.colorEnabled() { glyphs = "\u{1B}[32m" + glyphs + "\u{1B}[0m" }
        let head = "\(title) \(done)/\(total)"
        var tail = [String(format: "%3.0f%%", fraction * 100)]
        if !status.isEmpty { tail.append(status) }
        tail.append(rate.map { String(format: "%.2f %@/s", $0, unit) } ?? "-- \(unit)/s")
        tail.append("ETA " + (eta.map(ProgressMeter.duration) ?? "?"))
        return ProgressBar(title: title, done: done, total: total, fraction: fraction,
                           line: ([head, glyphs] + tail).joined(separator: "  "),
                           details: ([head] + tail).joined(separator: "  "))
    }

    public func plainLine(status: String, eta: Double?) -> String {
        var parts = ["[\(title)] \(done)/\(total) \(unit)"]
        if !status.isEmpty { parts.append(status) }
        if let r = rate { parts.append(String(format: "%.3g %@/s", r, unit)) }
        parts.append("ETA " + (eta.map(ProgressMeter.duration) ?? "?"))
        return parts.joined(separator: "  ")
    }

    /// H:MM:SS, as Python's str(timedelta(seconds=int(s))) prints it ("1 day, 2:03:04").
    public static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0, seconds < 1e15 else { return "?" }
        let s = Int(seconds)
        let days = s / 86400, rest = s % 86400
        let hms = String(format: "%d:%02d:%02d", rest / 3600, rest % 3600 / 60, rest % 60)
        return days > 0 ? "\(days) day\(days == 1 ? "" : "s"), \(hms)" : hms
    }
}

/// One state of a progress bar.
public struct ProgressBar: Sendable {
    public let title: String
    public let done: Int
    public let total: Int
    public let fraction: Double
    /// The line a terminal shows ("train 40/400  ████░░…  10%  loss 1.234  2.10 it/s  ETA 0:02:51").
    public let line: String
    /// The same without the bar's glyphs (for a display that draws its own bar).
    public let details: String
}
