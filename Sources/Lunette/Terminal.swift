import Glibc

/// Terminal facts: colour only on a terminal, never with NO_COLOR set or TERM=dumb.
enum Terminal {
    static func isTTY(_ fd: Int32) -> Bool { isatty(fd) != 0 }

    static func colorEnabled(fd: Int32) -> Bool {
        if let v = getenv("NO_COLOR"), v.pointee != 0 { return false }
        if let t = getenv("TERM"), String(cString: t) == "dumb" { return false }
        return isTTY(fd)
    }

    static var width: Int {
        var ws = winsize()
        if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &ws) == 0, ws.ws_col > 20 { return Int(ws.ws_col) }
        return 80
    }

    static func red(_ s: String, _ on: Bool) -> String { on ? "\u{1B}[31m\(s)\u{1B}[0m" : s }
    static func bold(_ s: String, _ on: Bool) -> String { on ? "\u{1B}[1m\(s)\u{1B}[0m" : s }
}
