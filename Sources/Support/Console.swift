import Foundation

/// Standard error as Lunette's long work shares it: log lines and at most one progress bar.
/// A line written while a bar is shown clears the bar, goes on its own line, and the bar is
/// drawn again below it, so the two are never glued together.
public enum StatusConsole {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var bar: String?

    /// What happens to the progress bar when its drawing goes elsewhere than stderr.
    public enum BarEvent {
        /// Shows the bar (a new one after `end`, else the one shown, updated).
        case show(ProgressBar)
        /// The bar is finished; its last state stays.
        case end
    }
    /// Where bars go instead of the terminal: a notebook (run headless or in a Jupyter kernel)
    /// shows each as one output updated in place. Set, bars are drawn whatever stderr is.
    nonisolated(unsafe) public static var barSink: ((BarEvent) -> Void)?
    /// Set on the ranks after 0 of a data-parallel job: progress (bars and their plain lines) is
    /// rank 0's to show, as Detectron2 logs on the main process only.
    nonisolated(unsafe) public static var progressSuppressed = false

    /// Whether progress is drawn as a bar: stderr is a terminal that can redraw a line in
    /// place (not TERM=dumb), or bars go to a notebook.
    public static var isInteractive: Bool {
        if barSink != nil { return true }
        if let t = getenv("TERM"), String(cString: t) == "dumb" { return false }
        return isatty(STDERR_FILENO) != 0
    }

    /// Colour only on a terminal, never when NO_COLOR is set (to anything) or TERM=dumb.
    public static func colorEnabled(fd: Int32 = STDERR_FILENO) -> Bool {
        if let v = getenv("NO_COLOR"), v.pointee != 0 { return false }
        if let t = getenv("TERM"), String(cString: t) == "dumb" { return false }
        return isatty(fd) != 0
    }

    /// Writes one line (a newline is added when missing).
    public static func line(_ text: String) {
        lock.lock()
        defer { lock.unlock() }
        var out = bar == nil ? "" : "\r\u{1B}[K"
        out += text.hasSuffix("\n") ? text : text + "\n"
        if let bar { out += bar }
        raw(out)
    }

    /// Runs `body` (which may print to stdout, a Lua hook say) with the bar taken off the
    /// line, then draws it again below whatever was printed.
    public static func withBarHidden<R>(_ body: () throws -> R) rethrows -> R {
        lock.lock()
        let shown = bar
        if shown != nil { raw("\r\u{1B}[K") }
        lock.unlock()
        defer {
            if let shown {
                fflush(nil)          // every stdio stream: what the body printed shows above the bar
                lock.lock()
                raw("\r\u{1B}[K" + shown)
                lock.unlock()
            }
        }
        return try body()
    }

    /// Shows (or replaces) the bar on the current line.
    static func showBar(_ progress: ProgressBar) {
        if let barSink { return barSink(.show(progress)) }
        lock.lock()
        defer { lock.unlock() }
        bar = progress.line
        raw("\r\u{1B}[K" + progress.line)
    }

    /// Leaves the bar's last state on its own line and stops redrawing it.
    static func endBar() {
        if let barSink { return barSink(.end) }
        lock.lock()
        defer { lock.unlock() }
        if bar != nil { raw("\n") }
        bar = nil
    }

    private static func raw(_ s: String) {
        var s = s
        s.withUTF8 { b in
            var done = 0
            while done < b.count {
                let n = write(STDERR_FILENO, b.baseAddress! + done, b.count - done)
                if n <= 0 { if n < 0 && errno == EINTR { continue }; return }
                done += n
            }
        }
    }
}
