import Glibc
import Support

/// Terminal facts: colour by Support's one rule (a terminal, no NO_COLOR, not TERM=dumb).
enum Terminal {
    static func isTTY(_ fd: Int32) -> Bool { isatty(fd) != 0 }

    static func colorEnabled(fd: Int32) -> Bool { StatusConsole.colorEnabled(fd: fd) }

    static var width: Int {
        var ws = winsize()
        if ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &ws) == 0, ws.ws_col > 20 { return Int(ws.ws_col) }
        return 80
    }

    static func red(_ s: String, _ on: Bool) -> String { on ? "\u{1B}[31m\(s)\u{1B}[0m" : s }
}
